"""Loaders, splits and scaling: formats users bring, built-in sets, seeded splits."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from aekit.data import Dataset, Scaler, TensorBatches, load_dataset, read_idx, split_dataset
from aekit.errors import DataError, ShapeError


def _write_idx(path: Path, arr: np.ndarray, gz: bool = False) -> Path:
    header = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)
    return path


def test_idx_folder_gives_official_test_split(tmp_path, rng):
    imgs = rng.integers(0, 256, (50, 6, 6))
    _write_idx(tmp_path / "train-images-idx3-ubyte.gz", imgs, gz=True)
    _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", rng.integers(0, 3, 50), gz=True)
    _write_idx(tmp_path / "t10k-images-idx3-ubyte", imgs[:10])
    _write_idx(tmp_path / "t10k-labels-idx1-ubyte", rng.integers(0, 3, 10))
    ds = load_dataset(tmp_path)
    assert ds.X.shape == (50, 1, 6, 6) and ds.X_test.shape == (10, 1, 6, 6)
    assert np.array_equal(ds.X[:, 0], imgs.astype(np.float32))
    s = split_dataset(ds, validation_fraction=0.2, seed=1)
    assert (len(s.train), len(s.val), len(s.test)) == (40, 10, 10)  # the 48k/12k/10k rule, scaled down


def test_truncated_idx_is_a_clear_error(tmp_path, rng):
    path = _write_idx(tmp_path / "x-idx3-ubyte", rng.integers(0, 256, (5, 4, 4)))
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(DataError, match="payload"):
        read_idx(path)


def test_fashion_mnist_from_the_debian_package():
    ds = load_dataset("fashion-mnist")
    assert ds.X.shape == (60000, 1, 28, 28) and ds.X_test.shape == (10000, 1, 28, 28)
    s = split_dataset(ds, 0.2, seed=0)
    assert (len(s.train), len(s.val), len(s.test)) == (48000, 12000, 10000)


def test_builtin_mnist_and_digits():
    m = load_dataset("mnist")
    assert m.X.shape == (5000, 1, 28, 28) and m.y.shape == (5000,) and m.X.max() == 255
    d = load_dataset("digits", limit=100)
    assert d.X.shape == (100, 1, 8, 8)


def test_npy_npz_csv_parquet(tmp_path, rng, table_csv):
    X = rng.random((30, 5)).astype(np.float32)
    np.save(tmp_path / "a.npy", X)
    np.savez(tmp_path / "b.npz", X=X, y=np.arange(30))
    assert np.array_equal(load_dataset(tmp_path / "a.npy").X, X)
    ds = load_dataset(tmp_path / "b.npz")
    assert np.array_equal(ds.X, X) and ds.y.tolist() == list(range(30))
    t = load_dataset(table_csv)
    assert t.X.shape == (120, 6) and t.y is not None and t.feature_names[0] == "f0"
    import pandas as pd

    pd.read_csv(table_csv).to_parquet(tmp_path / "t.parquet")
    assert np.allclose(load_dataset(tmp_path / "t.parquet").X, t.X)


def test_image_folder_with_class_subfolders(tmp_path, rng):
    from PIL import Image

    for cls in ("cat", "dog"):
        (tmp_path / cls).mkdir()
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (7, 9), dtype=np.uint8)).save(tmp_path / cls / f"{i}.png")
    ds = load_dataset(tmp_path)
    assert ds.X.shape == (6, 1, 7, 9) and sorted(set(ds.y.tolist())) == [0, 1] and ds.class_names == ["cat", "dog"]


@pytest.mark.parametrize(
    "content,match",
    [("a,b\n1,2\n3,nan\n", "NaN/inf"), ("a,b\n1,x\n3,4\n", "non-numeric"), ("a,b\n", "no rows"), ("\"a,b\n1", "cannot parse")],
)
def test_bad_tables(tmp_path, content, match):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(DataError, match=match):
        load_dataset(path)


def test_missing_file_and_unknown_builtin():
    with pytest.raises(DataError, match="not found.*mnist"):
        load_dataset("mnsit")


def test_nan_and_empty_arrays_are_rejected():
    with pytest.raises(DataError, match="NaN/inf"):
        Dataset(np.array([[1.0, np.inf]]))
    with pytest.raises(DataError, match="empty"):
        Dataset(np.zeros((0, 3)))


def test_split_is_seeded_and_disjoint(rng):
    ds = Dataset(np.arange(100, dtype=np.float32)[:, None])
    a, b = split_dataset(ds, 0.2, 0.1, seed=3), split_dataset(ds, 0.2, 0.1, seed=3)
    assert np.array_equal(a.train.X, b.train.X)
    ids = np.concatenate([a.train.X, a.val.X, a.test.X]).ravel()
    assert sorted(ids.tolist()) == list(range(100)) and (len(a.train), len(a.val), len(a.test)) == (72, 18, 10)
    assert not np.array_equal(split_dataset(ds, 0.2, 0.1, seed=4).train.X, a.train.X)


def test_scaler_is_fitted_on_train_only_and_round_trips(rng):
    train = rng.normal(5, 2, (200, 3)).astype(np.float32)
    train[:, 2] = 7.0  # constant column stays finite
    for kind in ("minmax", "standard"):
        s = Scaler(kind).fit(train)
        Z = s.transform(train)
        assert np.isfinite(Z).all()
        if kind == "minmax":
            assert Z[:, :2].min() == 0 and Z[:, :2].max() == pytest.approx(1)
        assert np.allclose(s.inverse_transform(Z), train, atol=1e-4)
        s2 = Scaler.from_dict(s.to_dict())
        assert np.array_equal(s2.transform(train[:5]), Z[:5])
    img = Scaler("minmax").fit(rng.integers(0, 256, (10, 1, 4, 4)).astype(np.float32))
    assert img.per_feature is False and img.shift_.shape == ()
    with pytest.raises(ShapeError, match="expects"):
        Scaler("minmax").fit(train).transform(np.zeros((2, 4)))


def test_tensor_batches_cover_every_row_once_per_epoch():
    import torch

    X = torch.arange(10).float()[:, None]
    b = TensorBatches(X, batch_size=3, shuffle=True, seed=1)
    b.set_epoch(0)
    rows = torch.cat(list(b)).ravel().tolist()
    assert sorted(rows) == list(range(10)) and len(b) == 4
    b.set_epoch(1)
    assert torch.cat(list(b)).ravel().tolist() != rows
    shards = [torch.cat(list(b.shard(r, 2))).ravel().tolist() for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 5 and not set(shards[0]) & set(shards[1])


def test_shards_of_fewer_rows_than_ranks_still_give_every_rank_a_batch():
    """Under data parallelism a set (or a bagged member's share) smaller than the world trains on
    every rank: each takes one row, wrapping round, instead of none (no steps at all)."""
    import torch

    X = torch.arange(3).float()[:, None]
    shards = [torch.cat(list(TensorBatches(X, batch_size=2, shuffle=True, seed=0).shard(r, 4))).ravel().tolist()
              for r in range(4)]
    assert [len(s) for s in shards] == [1, 1, 1, 1] and {v for s in shards for v in s} == {0.0, 1.0, 2.0}
    bagged = TensorBatches(torch.arange(8).float()[:, None], batch_size=4, shuffle=True, member_seeds=[0, 1],
                           member_share=0.125)  # one row per member, two ranks
    for r in range(2):
        part = bagged.shard(r, 2)
        batches = list(part)
        assert len(part) == len(batches) == 1 and batches[0].shape == (2, 1, 1)


def test_member_batches_give_each_member_its_own_seeds_row_order():
    """An ensemble trained as one network sees, in slice m of every batch, what member m would see alone."""
    import torch

    X = torch.arange(20).float()[:, None].repeat(1, 2)
    T = -X
    seeds = [3, 11, 12]
    both = TensorBatches(X, batch_size=6, shuffle=True, target=T, member_seeds=seeds)
    for epoch in (0, 1):
        both.set_epoch(epoch)
        batches = list(both)
        assert len(batches) == len(both) == 4 and batches[-1][0].shape == (3, 2, 2)
        for m, s in enumerate(seeds):
            alone = TensorBatches(X, batch_size=6, shuffle=True, seed=s, target=T)
            alone.set_epoch(epoch)
            for (x, t), (xa, ta) in zip(batches, alone):
                assert torch.equal(x[m], xa) and torch.equal(t[m], ta)
    assert not torch.equal(batches[0][0][0], batches[0][0][1])  # the members' orders differ


def test_member_share_gives_each_member_its_own_fixed_rows():
    """Row bagging: member m trains on a fixed subset of round(share * n) rows, drawn from its seed,
    each epoch one shuffled pass over exactly that subset."""
    import pytest
    import torch

    X = torch.arange(20).float()[:, None]
    seeds = [3, 11]
    b = TensorBatches(X, batch_size=6, shuffle=True, member_seeds=seeds, member_share=0.5)
    assert len(b) == 2  # 10 rows per member, in batches of 6
    per_epoch = []
    for epoch in (0, 1, 2):
        b.set_epoch(epoch)
        rows = torch.cat([x[:, :, 0] for x in b], dim=1)  # (M, 10)
        per_epoch.append(rows)
        for m in range(2):
            assert len(set(rows[m].tolist())) == 10  # a pass sees each of its rows once
    for m in range(2):
        assert all(set(e[m].tolist()) == set(per_epoch[0][m].tolist()) for e in per_epoch)  # the same subset
        assert per_epoch[0][m].tolist() != per_epoch[1][m].tolist()  # in a new order each epoch
    assert set(per_epoch[0][0].tolist()) != set(per_epoch[0][1].tolist())  # the members' subsets differ
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="member_share"):
            TensorBatches(X, batch_size=6, member_seeds=seeds, member_share=bad)
    with pytest.raises(ValueError, match="member_share"):
        TensorBatches(X, batch_size=6, member_share=0.5)  # a single model has no members to bag
