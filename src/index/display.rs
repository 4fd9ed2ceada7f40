//! How the cluster index shows in a notebook (see [`crate::display`]).

use crate::display::{block, evcxr_display, facts, Rich};

impl Rich for super::ClusterIndex<'_> {
    /// Rows, cells and the spread of cell sizes.
    fn to_html(&self) -> String {
        let mut sizes = self.list_sizes();
        sizes.sort_unstable();
        block(
            "Cluster index (IVF)",
            &facts(&[
                ("rows", self.len().to_string()),
                ("cells", self.nlist().to_string()),
                (
                    "cell sizes (min / median / max)",
                    format!(
                        "{} / {} / {}",
                        sizes[0],
                        sizes[sizes.len() / 2],
                        sizes[sizes.len() - 1]
                    ),
                ),
            ]),
        )
    }
}
evcxr_display!(super::ClusterIndex<'_>);
