"""Re-check a saved certificate against a network and data: same digests, same proof again.

A :class:`~symtrunc.verification.certificate.Certificate` names the SHA-256 of the network and of
the data it was proved for (:mod:`symtrunc.verification.digest`) and the target of every class.
:func:`recheck_certificate` recomputes both digests from the network and data it is given,
proves the statement again with the certificate's method and targets, and compares what the
new proof establishes with what the certificate states. Any difference raises
:class:`~symtrunc.errors.VerificationError` with a one-line reason (the command line exits 1).

Examples
--------
>>> import symtrunc
>>> from symtrunc.network import Layer
>>> data = symtrunc.LabeledData.from_arrays([[2, 0], [3, 0], [0, 2], [0, 3]], ["a", "a", "b", "b"])
>>> net = symtrunc.construct(data)
>>> cert = symtrunc.verify(net, data)
>>> recheck_certificate(cert.to_dict(), net, data) == cert
True
>>> L = net.layers[-1]
>>> recheck_certificate(cert, net.with_layer(net.depth - 1, Layer(L.W, L.b * 2, "identity")), data)
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
symtrunc.errors.VerificationError: the network is not the one the certificate speaks about: SHA-256 ...
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from symtrunc.data.labeled import LabeledData, load_data
from symtrunc.data.stream import check_chunk_size, open_source
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.network import ReLUNetwork
from symtrunc.verification.certificate import Certificate
from symtrunc.verification.certified import verify_certified
from symtrunc.verification.digest import DATA_DIGEST_VERSION, DataDigest, data_sha256, network_sha256
from symtrunc.verification.exact import verify as verify_exact

__all__ = ["recheck_certificate", "read_certificate"]

#: the fields that state what was proved (statistics such as timings may differ between runs)
CLAIMS = ("n_points", "input_dim", "n_classes", "widths", "invariants_checked", "layers", "costs", "targets")


def read_certificate(source: Any) -> Certificate:
    """A :class:`Certificate` from itself, its :meth:`~Certificate.to_dict` form or a JSON file.

    Raises
    ------
    FormatError
        If the file cannot be read or is not a symtrunc certificate.
    """
    if isinstance(source, Certificate):
        return source
    if isinstance(source, (str, Path)):
        p = Path(source)
        try:
            source = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise FormatError(f"no such file: {p}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise FormatError(f"cannot read {p}: {e}") from None
        except json.JSONDecodeError as e:
            raise FormatError(f"{p.name}: not valid JSON: {e.msg} at line {e.lineno}") from None
        try:
            return Certificate.from_dict(source)
        except FormatError as e:
            raise FormatError(f"{p}: {e}") from None
    return Certificate.from_dict(source)


def recheck_certificate(
    certificate: Any,
    network: ReLUNetwork,
    data: Any,
    *,
    labels: Any = None,
    chunk_size: int = 65536,
    client: Any = None,
    progress: bool | None = False,
) -> Certificate:
    """Check that ``certificate`` speaks about ``network`` and ``data`` and that its proof holds.

    Parameters
    ----------
    certificate : Certificate, mapping or path
        A certificate, its :meth:`~Certificate.to_dict` form or a JSON file.
    network : ReLUNetwork
    data : LabeledData, path or array
        For an exact certificate anything :func:`~symtrunc.data.labeled.load_data` reads; for a
        certified one anything :func:`~symtrunc.data.stream.open_source` reads (``labels``,
        ``chunk_size``, ``client`` and ``progress`` go to
        :func:`~symtrunc.verification.certified.verify_certified`).

    Returns
    -------
    Certificate
        The new certificate, which states the same as the old one (its digests in today's
        formats: an old certificate's ``data_sha256`` may be of format 1).

    Raises
    ------
    VerificationError
        If a digest differs, the proof fails again (with its counterexample), or the new proof
        states something else (one-line reason).
    FormatError
        If the certificate is malformed or names no digests.
    """
    check_chunk_size(chunk_size)  # before the data are hashed in chunks
    cert = read_certificate(certificate)
    if not cert.network_sha256 or not cert.data_sha256 or not cert.targets:
        raise FormatError(
            "the certificate names no network and data SHA-256 or no targets (written by an "
            "older symtrunc?): verify again to get a certificate that can be re-checked"
        )
    _same("the network is not the one", network_sha256(network), cert.network_sha256)
    targets = {label: list(t) for label, t in cert.targets}
    if cert.method == "certified":
        src = open_source(data, labels)

        def digest(version: int) -> str:
            dig = DataDigest(version)
            for chunk in src.chunks(chunk_size):
                dig.update(chunk.X, chunk.labels)
            return dig.hexdigest()

        def prove() -> Certificate:
            return verify_certified(
                network,
                src,
                chunk_size=chunk_size,
                client=client,
                progress=progress,
                label_matrix=targets,
                invariants=cert.invariants_checked,
            )

    elif cert.method == "exact":
        if labels is not None:
            raise DataError("labels= goes with certificates of certified verification")
        points = data if isinstance(data, LabeledData) else load_data(data, check=False)

        def digest(version: int) -> str:
            return data_sha256(points, version)

        def prove() -> Certificate:
            return verify_exact(network, points, label_matrix=targets, invariants=cert.invariants_checked)

    else:
        raise FormatError(f"unknown verification method {cert.method!r} in the certificate")
    if cert.data_digest_version != DATA_DIGEST_VERSION:  # an old format: hashed on its own first
        _same("the data are not the ones", digest(cert.data_digest_version), cert.data_sha256)
        new = prove()
    else:  # the proof hashes the data in this format on the way: one pass, not two
        try:
            new = prove()
        except (VerificationError, DataError):  # other data? say so rather than how they fail
            _same("the data are not the ones", digest(DATA_DIGEST_VERSION), cert.data_sha256)
            raise
        _same("the data are not the ones", new.data_sha256, cert.data_sha256)
    for name in CLAIMS:
        if getattr(new, name) != getattr(cert, name):
            raise VerificationError(
                f"re-verification proves {name} = {_short(getattr(new, name))}, but the "
                f"certificate states {_short(getattr(cert, name))}"
            )
    return replace(new, theorem=cert.theorem)


def _same(what: str, got: str, want: str) -> None:
    if got != want:
        raise VerificationError(
            f"{what} the certificate speaks about: SHA-256 {got[:16]}..., the certificate names {want[:16]}..."
        )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
