"""No pickle anywhere: the package's source (and app.py's, and bench/'s) has no pickle, joblib or
torch.load (tokens, not comments), and the bundled model folder holds safetensors only. The index
folder, read without unpickling through a whole life, is checked in unit/test_index.py; a model
folder without safetensors in unit/test_embedding.py."""

from __future__ import annotations

import io
import tokenize

from helpers import ROOT, bundled_model

FORBIDDEN_NAMES = {"pickle", "cPickle", "_pickle", "joblib", "dill", "cloudpickle", "shelve", "marshal",
                   "read_pickle", "to_pickle"}
FORBIDDEN_CALLS = {("torch", "load"), ("pd", "read_pickle")}
# numpy's own array files (the saved BM25 indexes) only with pickling switched off in the call
NUMPY_CALLS = {("np", "load"), ("numpy", "load"), ("np", "save"), ("numpy", "save")}
FORBIDDEN_FILES = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".bin", ".npz")


def call_args(tokens: list, at: int) -> list[str]:
    """The tokens of the call whose opening parenthesis is ``tokens[at]``."""
    depth, out = 0, []
    for tok in tokens[at:]:
        depth += tok.string in "([{" and tok.type == tokenize.OP
        depth -= tok.string in ")]}" and tok.type == tokenize.OP
        out.append(tok.string)
        if depth == 0:
            break
    return out


def pickle_uses(source: str) -> list[str]:
    """Uses of pickle in Python source: names and calls in the code, and file names in strings
    that would be unpickled; words in comments and docstrings ("never pickle") do not count."""
    found = []
    tokens = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
              if t.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                                tokenize.DEDENT)]
    for i, tok in enumerate(tokens):
        if tok.type == tokenize.NAME and tok.string in FORBIDDEN_NAMES:
            found.append(f"line {tok.start[0]}: {tok.string}")
        if tok.string == "allow_pickle" and [t.string for t in tokens[i + 1:i + 3]] != ["=", "False"]:
            found.append(f"line {tok.start[0]}: allow_pickle not False")
        if tok.type == tokenize.NAME and i + 3 < len(tokens) and tokens[i + 1].string == "." \
                and (tok.string, tokens[i + 2].string) in NUMPY_CALLS \
                and "".join(call_args(tokens, i + 3)).count("allow_pickle=False") != 1:
            found.append(f"line {tok.start[0]}: {tok.string}.{tokens[i + 2].string} pickling")
        if tok.type == tokenize.NAME and i + 2 < len(tokens) and tokens[i + 1].string == "." \
                and (tok.string, tokens[i + 2].string) in FORBIDDEN_CALLS:
            found.append(f"line {tok.start[0]}: {tok.string}.{tokens[i + 2].string}")
        if tok.type == tokenize.STRING and len(tok.string) < 200:
            value = tok.string.strip("\"'rbfRBF")
            if value.endswith(FORBIDDEN_FILES):
                found.append(f"line {tok.start[0]}: file {value}")
    return found


def test_the_scanner_finds_pickle_and_ignores_prose():
    bad = ("import pickle\nfrom joblib import load\nx = torch.load(p)\ny = np.load(p, allow_pickle=True)\n"
           'w = "pytorch_model.bin"\n')
    assert len(pickle_uses(bad)) == 6
    assert len(pickle_uses("a = np.load(p)\nnp.save(f, a)\nb = np.load(p, allow_pickle=bool(1))\n")) == 4
    assert pickle_uses('a = np.load(p, mmap_mode="r", allow_pickle=False)\n'
                       'np.save(f, a, allow_pickle=False)\nw = "x.npy"\n') == []
    assert pickle_uses('"""The index is never pickle: JSON."""\n# no pickle here\nx = "pickled"\n') == []


def test_no_pickle_joblib_or_torch_load_in_the_source():
    files = [*sorted((ROOT / "qa_bot").glob("*.py")), ROOT / "app.py", *sorted((ROOT / "bench").glob("*.py"))]
    assert len(files) > 10
    found = {f.relative_to(ROOT).as_posix(): uses for f in files if (uses := pickle_uses(f.read_text()))}
    assert found == {}


def test_the_bundled_model_is_safetensors_only():
    folder = bundled_model()
    files = [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()]
    assert "model.safetensors" in files
    assert not [f for f in files if f.endswith(FORBIDDEN_FILES)], files
