//! The assignment problem (Hungarian method, Kuhn-Munkres with potentials, O(n² m)): which
//! cluster of one side matches which of the other so that the total overlap is largest.

/// For a `rows x cols` cost matrix (row-major), the column assigned to each row (`None` for the
/// rows left over when there are more rows than columns), minimising the total cost.
pub fn assign_min(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    assert_eq!(
        cost.len(),
        rows * cols,
        "assign_min: cost is not rows x cols"
    );
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    // Square it: padding rows or columns cost 0.
    let n = rows.max(cols);
    let at = |i: usize, j: usize| {
        if i < rows && j < cols {
            cost[i * cols + j]
        } else {
            0.0
        }
    };
    // 1-based potentials u (rows), v (columns); p[j] = row matched to column j; way = the path.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; n + 1];
    let mut p = vec![0usize; n + 1];
    let mut way = vec![0usize; n + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        let mut minv = vec![f64::INFINITY; n + 1];
        let mut used = vec![false; n + 1];
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=n {
                if !used[j] {
                    let cur = at(i0 - 1, j - 1) - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=n {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if p[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![None; rows];
    for (j, &i) in p.iter().enumerate().skip(1) {
        if (1..=rows).contains(&i) && j <= cols {
            out[i - 1] = Some(j - 1);
        }
    }
    out
}

/// The matching of largest total `weight` (`rows x cols`, row-major).
pub fn assign_max(weight: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    let top = weight.iter().copied().fold(0.0, f64::max);
    let cost: Vec<f64> = weight.iter().map(|&w| top - w).collect();
    assign_min(&cost, rows, cols)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every assignment by brute force: the least total cost.
    fn brute(cost: &[f64], n: usize) -> f64 {
        fn go(i: usize, n: usize, cost: &[f64], used: &mut Vec<bool>) -> f64 {
            if i == n {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for j in 0..n {
                if !used[j] {
                    used[j] = true;
                    best = best.min(cost[i * n + j] + go(i + 1, n, cost, used));
                    used[j] = false;
                }
            }
            best
        }
        go(0, n, cost, &mut vec![false; n])
    }

    #[test]
    fn matches_brute_force_on_random_squares() {
        let mut rng = crate::rng::Rng::new(5, 0);
        for n in 1..=6 {
            for _ in 0..20 {
                let cost: Vec<f64> = (0..n * n).map(|_| (rng.below(20)) as f64).collect();
                let a = assign_min(&cost, n, n);
                let total: f64 = a
                    .iter()
                    .enumerate()
                    .map(|(i, j)| cost[i * n + j.unwrap()])
                    .sum();
                assert_eq!(total, brute(&cost, n), "{cost:?}");
                let mut cols: Vec<usize> = a.iter().map(|j| j.unwrap()).collect();
                cols.sort_unstable();
                assert_eq!(cols, (0..n).collect::<Vec<_>>());
            }
        }
    }

    #[test]
    fn rectangles_leave_the_extra_rows_or_columns_out() {
        // 3 rows, 2 columns: one row unmatched.
        let w = [5.0, 0.0, 0.0, 1.0, 4.0, 0.0];
        let a = assign_max(&w, 3, 2);
        assert_eq!(a, vec![Some(0), Some(1), None]);
        // 2 rows, 3 columns.
        let w = [0.0, 0.0, 7.0, 3.0, 0.0, 0.0];
        assert_eq!(assign_max(&w, 2, 3), vec![Some(2), Some(0)]);
        assert!(assign_max(&[], 0, 3).is_empty());
    }
}
