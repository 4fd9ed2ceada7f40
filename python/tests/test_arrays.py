"""numpy in: dtypes, layouts and bad values, with the command line's words."""
import numpy as np
import pytest

import embedscope as es


def labels(X):
    return es.KMeans(4, random_state=1).fit(X).labels_


def test_float64_float16_and_lists_are_converted(blobs):
    want = labels(blobs)
    assert np.array_equal(labels(blobs.astype(np.float64)), want)
    assert np.array_equal(labels(blobs.tolist()), want)
    e16 = es.Embeddings.from_numpy(blobs.astype(np.float16))
    assert e16.is_half and e16.shape == blobs.shape
    assert (labels(e16) == want).mean() > 0.99


def test_integers_are_refused_naming_the_dtype(blobs):
    with pytest.raises(es.EmbedscopeError, match=r"X: dtype int64 is not floating point; pass float32, float64 or float16"):
        es.KMeans(4).fit(blobs.astype(np.int64))
    with pytest.raises(es.EmbedscopeError, match="dtype bool"):
        es.Umap().fit(blobs > 0)


def test_non_contiguous_and_fortran_arrays_read_in_row_order(blobs):
    wide = np.repeat(blobs, 2, axis=1)
    strided = wide[:, ::2]
    assert not strided.flags.c_contiguous
    assert np.array_equal(labels(strided), labels(np.ascontiguousarray(strided)))
    assert np.array_equal(labels(np.asfortranarray(blobs)), labels(blobs))
    assert np.array_equal(labels(blobs[::-1]), labels(blobs[::-1].copy()))


def test_shapes_other_than_two_d_are_refused(blobs):
    with pytest.raises(es.EmbedscopeError, match=r"expected a 2-D array \(rows x dimensions\), got shape \[32\]"):
        es.KMeans(2).fit(blobs[0])


def test_nan_names_row_and_dimension_as_the_command_line_does(blobs, cli, tmp_path):
    bad = blobs.copy()
    bad[17, 5] = np.nan
    with pytest.raises(es.EmbedscopeError) as python:
        es.KMeans(4).fit(bad)
    np.save(tmp_path / "bad.npy", bad)
    code, _, stderr = cli("audit", tmp_path / "bad.npy", "--out", tmp_path / "r.html")
    assert code == 2
    words = "row 17, dimension 5: value NaN is not finite"
    assert words in str(python.value), python.value
    assert words in stderr, stderr
    assert not (tmp_path / "r.html").exists()


def test_zero_rows_and_infinite_values_are_named(blobs):
    zero = blobs.copy()
    zero[3] = 0
    with pytest.raises(es.EmbedscopeError, match="row 3 is all zeros"):
        es.ClusterIndex().fit(zero)
    inf = blobs.copy()
    inf[2, 1] = np.inf
    with pytest.raises(es.EmbedscopeError, match="row 2, dimension 1: value inf is not finite"):
        es.near_duplicates(inf)


def test_embeddings_are_shared_and_outputs_are_owned_arrays(blobs):
    e = es.Embeddings.from_numpy(blobs)
    assert len(e) == 400 and e.shape == (400, 32)
    unit = e.to_numpy()
    assert np.allclose(np.linalg.norm(unit, axis=1), 1, atol=1e-5)
    km = es.KMeans(4).fit(e)
    centres = km.cluster_centers_
    assert centres.shape == (4, 32) and centres.dtype == np.float32 and centres.flags.owndata is not None
    assert np.array_equal(km.labels_, es.KMeans(4).fit(blobs).labels_)
    points = es.Embeddings.from_numpy(blobs, normalize=False)
    with pytest.raises(es.EmbedscopeError, match="normalize=False"):
        es.KMeans(4).fit(points)
