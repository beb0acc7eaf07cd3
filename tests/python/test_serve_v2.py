"""The Open Inference Protocol (KServe v2) of `deepcross serve`, driven by the official
tritonclient[http] client against a running server on 127.0.0.1: liveness, readiness,
metadata, inference (JSON and binary tensors, per-field inputs and raw lines) equal to
`deepcross predict` within 1e-6, errors, and SIGHUP reloads under load without one failed
request."""
import os
import re
import shutil
import signal
import subprocess
import threading
import time

import numpy as np
import pytest
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

from conftest import CATEGORICAL, NUMERIC, hostile_lines, parse_rows, predict, train

NAME = "criteo-ctr"


class Server:
    """`deepcross serve` on a free port of 127.0.0.1; its stderr lines are collected."""

    def __init__(self, binary, model, *extra):
        self.proc = subprocess.Popen(
            [str(binary), "serve", "--model", str(model), "--port", "0", "--threads", "2",
             *extra], stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        self.lines = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        line = self.wait_for(lambda l: "serving" in l or "error" in l, 30)
        m = re.search(r"on http://127\.0\.0\.1:(\d+) ", line)
        assert m, f"no start-up line: {self.lines}"
        self.url = f"127.0.0.1:{m.group(1)}"

    def _read(self):
        for line in self.proc.stderr:
            with self.changed:
                self.lines.append(line.rstrip("\n"))
                self.changed.notify_all()

    def wait_for(self, predicate, timeout, start=0):
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for line in self.lines[start:]:
                    if predicate(line):
                        return line
                left = deadline - time.monotonic()
                assert left > 0 and self.proc.poll() is None, f"server said: {self.lines}"
                self.changed.wait(left)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0, self.lines
        self.reader.join(timeout=5)


@pytest.fixture(scope="module")
def models(deepcross, tmp_path_factory):
    d = tmp_path_factory.mktemp("models")
    a, b = d / "a.dcn", d / "b.dcn"
    train(deepcross, a, "--cross", "matrix")
    train(deepcross, b, "--cross", "lowrank", "--structure", "parallel", "--seed", "7")
    return a, b


@pytest.fixture(scope="module")
def server(deepcross, models):
    s = Server(deepcross, models[0], "--name", NAME)
    yield s
    s.stop()


def v2_inputs(lines, binary):
    feeds = parse_rows(lines)
    inputs = []
    for name in NUMERIC + CATEGORICAL:
        arr = feeds[name]
        t = httpclient.InferInput(name, [len(lines)], "FP32" if name in NUMERIC else "BYTES")
        t.set_data_from_numpy(arr, binary_data=binary)
        inputs.append(t)
    return inputs


def infer(client, lines, binary=True):
    outputs = [httpclient.InferRequestedOutput("probability", binary_data=binary)]
    result = client.infer(NAME, v2_inputs(lines, binary), outputs=outputs)
    return result.as_numpy("probability")


def test_health_and_metadata(server):
    client = httpclient.InferenceServerClient(url=server.url)
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(NAME)
    assert not client.is_model_ready("no-such-model")
    meta = client.get_server_metadata()
    assert meta["name"] == "deepcross" and "binary_tensor_data" in meta["extensions"]
    model = client.get_model_metadata(NAME)
    assert model["name"] == NAME
    assert [i["name"] for i in model["inputs"]] == NUMERIC + CATEGORICAL
    for i in model["inputs"]:
        assert i["datatype"] == ("FP32" if i["name"] in NUMERIC else "BYTES")
        assert i["shape"] == [-1]
    assert model["outputs"] == [{"name": "probability", "datatype": "FP32", "shape": [-1]}]


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
def test_inference_equals_predict(deepcross, models, server, sample_lines, tmp_path, binary):
    client = httpclient.InferenceServerClient(url=server.url)
    for lines in (sample_lines[:500], hostile_lines(), sample_lines[3:4]):
        expected = predict(deepcross, models[0], lines, tmp_path)
        got = infer(client, lines, binary)
        assert got.dtype == np.float32 and got.shape == (len(lines),)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)


def test_raw_lines_and_default_request(deepcross, models, server, sample_lines, tmp_path):
    client = httpclient.InferenceServerClient(url=server.url)
    lines = sample_lines[100:160] + hostile_lines()
    expected = predict(deepcross, models[0], lines, tmp_path)
    raw = httpclient.InferInput("lines", [len(lines)], "BYTES")
    raw.set_data_from_numpy(np.array(lines, dtype=object))
    got = client.infer(NAME, [raw]).as_numpy("probability")  # default: binary output asked
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-6)
    # [N, 1] shapes are accepted too.
    feeds = parse_rows(lines)
    inputs = []
    for name in NUMERIC + CATEGORICAL:
        t = httpclient.InferInput(name, [len(lines), 1], "FP32" if name in NUMERIC else "BYTES")
        t.set_data_from_numpy(feeds[name].reshape(-1, 1))
        inputs.append(t)
    np.testing.assert_allclose(client.infer(NAME, inputs).as_numpy("probability"), expected,
                               rtol=0, atol=1e-6)


def test_errors_are_4xx_with_a_message(server, sample_lines):
    client = httpclient.InferenceServerClient(url=server.url)
    with pytest.raises(InferenceServerException, match="unknown model 'other'"):
        client.infer("other", v2_inputs(sample_lines[:2], True))
    wrong = httpclient.InferInput("C14", [1], "FP32")
    wrong.set_data_from_numpy(np.array([1.0], dtype=np.float32))
    with pytest.raises(InferenceServerException, match="C14 is categorical"):
        client.infer(NAME, [wrong])
    unknown = httpclient.InferInput("C99", [1], "FP32")
    unknown.set_data_from_numpy(np.array([1.0], dtype=np.float32))
    with pytest.raises(InferenceServerException, match="unknown input 'C99'"):
        client.infer(NAME, [unknown])
    bad_line = httpclient.InferInput("lines", [1], "BYTES")
    bad_line.set_data_from_numpy(np.array(["1\t2"], dtype=object))
    with pytest.raises(InferenceServerException, match="expected 39 or 40 fields"):
        client.infer(NAME, [bad_line])


def test_sighup_reloads_under_load_without_a_failed_request(deepcross, models, sample_lines,
                                                            tmp_path):
    a, b = models
    served = tmp_path / "served.dcn"
    shutil.copyfile(a, served)
    lines = sample_lines[:40]
    want = {"a": predict(deepcross, a, lines, tmp_path), "b": predict(deepcross, b, lines, tmp_path)}
    assert np.abs(want["a"] - want["b"]).max() > 1e-3  # the two models are told apart

    def replace(source):
        tmp = tmp_path / "next.dcn"
        if isinstance(source, bytes):
            tmp.write_bytes(source)
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, served)

    s = Server(deepcross, served, "--name", NAME)
    results, failures = [], []
    stop = threading.Event()
    deadline = time.monotonic() + 60

    def client_loop():
        client = httpclient.InferenceServerClient(url=s.url)
        for _ in range(400):  # bounded in count and in time
            if stop.is_set() or time.monotonic() > deadline:
                return
            try:
                got = infer(client, lines)
                results.append(got)
            except Exception as e:  # noqa: BLE001 - every failure is a test failure
                failures.append(repr(e))

    try:
        threads = [threading.Thread(target=client_loop) for _ in range(4)]
        for t in threads:
            t.start()
        steps = [(b, "reloaded"), (b"not a model", "reloading failed"), (a, "reloaded"),
                 (b, "reloaded")]
        for source, expect in steps:
            time.sleep(0.3)
            replace(source)
            seen = len(s.lines)
            s.proc.send_signal(signal.SIGHUP)
            s.wait_for(lambda l: expect in l, 30, start=seen)
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        assert failures == []
        assert len(results) >= 20, len(results)
        kinds = set()
        for got in results:
            close = [k for k, v in want.items() if np.abs(got - v).max() <= 1e-6]
            assert close, "an answer from neither model"
            kinds.add(close[0])
        assert kinds == {"a", "b"}
        # After the last reload, model b answers; the failed load kept the model serving.
        client = httpclient.InferenceServerClient(url=s.url)
        np.testing.assert_allclose(infer(client, lines), want["b"], rtol=0, atol=1e-6)
        assert any("not a deepcross model file" in l for l in s.lines)
    finally:
        stop.set()
        s.stop()


def test_the_name_defaults_to_the_model_files_stem(deepcross, models):
    s = Server(deepcross, models[0])
    try:
        client = httpclient.InferenceServerClient(url=s.url)
        assert client.is_model_ready("a")
        assert client.get_model_metadata("a")["name"] == "a"
        assert not client.is_model_ready(NAME)
    finally:
        s.stop()
    bad = subprocess.run([str(deepcross), "serve", "--model", str(models[0]), "--port", "0",
                          "--name", "a/b"], capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "--name" in bad.stderr and len(bad.stderr.splitlines()) == 1
