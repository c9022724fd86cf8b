"""The offline model ships in a package and loads with the network unreachable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from jobmatch.embeddings.providers import OfflineEmbeddings, cosine

# Any attempt to open a connection fails loudly (and so does name resolution).
SITECUSTOMIZE = textwrap.dedent(
    """
    import socket

    def _refuse(*args, **kwargs):
        raise OSError("network access attempted")

    socket.socket.connect = _refuse
    socket.socket.connect_ex = _refuse
    socket.create_connection = _refuse
    socket.getaddrinfo = _refuse
    """
)
PROBE = textwrap.dedent(
    """
    import socket
    try:
        socket.create_connection(("192.0.2.1", 443), timeout=1)
    except OSError as exc:
        assert "network access attempted" in str(exc)
    else:
        raise SystemExit("the network guard is not active")
    from jobmatch.embeddings.providers import OfflineEmbeddings, cosine
    a, b, c = OfflineEmbeddings(256).embed(
        ["toxicology research scientist", "toxicologist", "ship steward"]
    )
    print(round(cosine(a, b), 3), round(cosine(a, c), 3))
    """
)


def test_the_model_loads_and_embeds_with_no_network_and_no_cache(tmp_path: Path) -> None:
    (tmp_path / "guard").mkdir()
    (tmp_path / "guard" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    (tmp_path / "home").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path / "home"),  # an empty home: no model cache to fall back on
        "HF_HUB_OFFLINE": "1",
        "PYTHONPATH": os.pathsep.join([str(tmp_path / "guard"), *sys.path]),
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    related, unrelated = map(float, result.stdout.split())
    assert related > unrelated + 0.3
    assert not any((tmp_path / "home").iterdir())  # nothing cached or downloaded


def test_vectors_are_unit_length_deterministic_and_truncatable() -> None:
    [full] = OfflineEmbeddings(256).embed(["Senior Python developer"])
    [again] = OfflineEmbeddings(256).embed(["Senior Python developer"])
    [short] = OfflineEmbeddings(64).embed(["Senior Python developer"])
    assert full == again
    assert abs(sum(x * x for x in full) - 1.0) < 1e-9
    assert len(short) == 64
    assert cosine(short, full[:64]) > 0.999  # a prefix of the same vector, renormalised
    assert OfflineEmbeddings(256).embed([""])[0][0] == 1.0  # no tokens: a fixed vector


def test_synonyms_are_closer_than_look_alikes() -> None:
    """What the trigram hash it replaced could not do: no letters shared, yet close.
    (A static model still has limits: "car mechanic" sits nearer "car salesman" than
    "automotive technician"; the role vectors' aliases and descriptions help there.)"""
    model = OfflineEmbeddings(256)
    for word, synonym, look_alike in [
        ("doctor", "physician", "physicist"),
        ("lawyer", "attorney", "lawn mower"),
        ("chef", "cook", "chief executive"),
    ]:
        a, b, c = model.embed([word, synonym, look_alike])
        assert cosine(a, b) > cosine(a, c) + 0.15, word
