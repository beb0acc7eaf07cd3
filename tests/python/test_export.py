"""`deepcross export`: the ONNX file, run by onnxruntime, scores what `deepcross predict`
scores (within 1e-5) for every cross type x stacked/parallel x {1, 3} classes, on the shipped
Criteo sample, on rows with unseen and missing values, and on one row; onnx.checker passes
with full checking; bad paths are one-line errors."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from conftest import CATEGORICAL, NUMERIC, hostile_lines, parse_rows, predict, run, train

CASES = [(cross, structure, classes)
         for cross in ("vector", "matrix", "lowrank", "mix")
         for structure in ("stacked", "parallel")
         for classes in (1, 3)]


@pytest.mark.parametrize("cross,structure,classes", CASES,
                         ids=[f"{c}-{s}-{k}" for c, s, k in CASES])
def test_exported_model_scores_as_predict(deepcross, sample_lines, tmp_path, cross, structure,
                                          classes):
    model, onnx_path = tmp_path / "m.dcn", tmp_path / "m.onnx"
    train(deepcross, model, "--cross", cross, "--structure", structure, "--classes", classes)
    run(deepcross, "export", "--model", model, "--output", onnx_path)

    proto = onnx.load(str(onnx_path))
    onnx.checker.check_model(proto, full_check=True)
    opsets = {o.domain: o.version for o in proto.opset_import}
    assert opsets[""] >= 17 and set(opsets) <= {"", "ai.onnx.ml"}
    assert {n.domain for n in proto.graph.node} <= {"", "ai.onnx.ml"}

    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    assert list(inputs) == NUMERIC + CATEGORICAL
    for name in NUMERIC:
        assert inputs[name].type == "tensor(float)" and inputs[name].shape == ["N"]
    for name in CATEGORICAL:
        assert inputs[name].type == "tensor(string)" and inputs[name].shape == ["N"]
    out = session.get_outputs()[0]
    assert out.name == "probability"
    assert out.shape == (["N"] if classes == 1 else ["N", classes])

    for lines in (sample_lines, hostile_lines(), sample_lines[7:8], hostile_lines()[1:2]):
        expected = predict(deepcross, model, lines, tmp_path)
        got = session.run(["probability"], parse_rows(lines))[0]
        assert got.shape == expected.shape
        assert np.all(np.isfinite(got))
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-5)
    if classes > 1:
        np.testing.assert_allclose(got.sum(axis=1), 1, atol=1e-6)


def test_export_refuses_bad_paths(deepcross, tmp_path):
    missing = run(deepcross, "export", "--model", tmp_path / "none.dcn", "--output",
                  tmp_path / "x.onnx", check=False)
    assert missing.returncode == 1
    assert missing.stderr.startswith("deepcross: error: cannot open model file")
    assert len(missing.stderr.splitlines()) == 1

    not_a_model = tmp_path / "rows.tsv"
    not_a_model.write_text("1\t2\n")
    r = run(deepcross, "export", "--model", not_a_model, "--output", tmp_path / "x.onnx",
            check=False)
    assert r.returncode == 1 and "not a deepcross model file" in r.stderr

    model = tmp_path / "m.dcn"
    train(deepcross, model, "--cross", "vector")
    r = run(deepcross, "export", "--model", model, "--output", tmp_path / "no" / "dir" / "x.onnx",
            check=False)
    assert r.returncode == 1 and "no/dir/x.onnx" in r.stderr and len(r.stderr.splitlines()) == 1

    # An existing file is replaced only once the new one is complete.
    target = tmp_path / "keep.onnx"
    target.write_bytes(b"old")
    r = run(deepcross, "export", "--model", not_a_model, "--output", target, check=False)
    assert r.returncode == 1 and target.read_bytes() == b"old"

    usage = run(deepcross, "export", "--model", model, check=False)
    assert usage.returncode == 2 and "--output" in usage.stderr


def csv_model(deepcross, tmp_path, numeric):
    data = tmp_path / "d.csv"
    rows = [f"click,{numeric},city name"]
    rows += [f"{i % 2},{'' if i % 9 == 0 else (i * 37) % 101 / 4},{'' if i % 11 == 0 else 'c%d' % (i % 13)}"
             for i in range(300)]
    data.write_text("\n".join(rows) + "\n")
    model = tmp_path / "csv.dcn"
    run(deepcross, "train", "--data", data, "--format", "csv", "--label", "click", "--numeric",
        numeric, "--categorical", "city name", "--model", model, "--epochs", 1, "--min-count", 1,
        "--history", "none", "--curves", "none", "--threads", 1)
    return model, rows[1:]


def test_export_of_a_csv_model_names_its_inputs_after_its_columns(deepcross, tmp_path):
    model, rows = csv_model(deepcross, tmp_path, "price")
    onnx_path = tmp_path / "csv.onnx"
    run(deepcross, "export", "--model", model, "--output", onnx_path)
    onnx.checker.check_model(onnx.load(str(onnx_path)), full_check=True)
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["price", "city name"]
    cols = [r.split(",") for r in rows]
    feeds = {"price": np.array([float(c[1]) if c[1] else np.nan for c in cols], dtype=np.float32),
             "city name": np.array([c[2] for c in cols], dtype=object)}
    data = tmp_path / "rows.csv"
    data.write_text("click,price,city name\n" + "\n".join(rows) + "\n")
    out = run(deepcross, "predict", "--model", model, "--data", data).stdout.split()
    np.testing.assert_allclose(session.run(None, feeds)[0], np.array(out, dtype=np.float64),
                               rtol=0, atol=1e-5)


def test_export_refuses_a_field_named_like_the_output(deepcross, tmp_path):
    model, _ = csv_model(deepcross, tmp_path, "probability")
    target = tmp_path / "x.onnx"
    r = run(deepcross, "export", "--model", model, "--output", target, check=False)
    assert r.returncode == 1 and "'probability' clashes" in r.stderr and str(model) in r.stderr
    assert not target.exists()
