"""``symtrunc verify-certificate``: re-check a saved certificate against a network and data.

The certificate names the SHA-256 of the network and of the data it was proved for; the command
recomputes both from the files given, proves the statement again with the certificate's method
and targets, and compares (:func:`symtrunc.verification.recheck.recheck_certificate`). A
mismatch exits with code 1 and a one-line reason.

Examples
--------
>>> import argparse
>>> p = argparse.ArgumentParser(prog="symtrunc")
>>> register(p.add_subparsers(dest="command"))
>>> args = p.parse_args(["verify-certificate", "cert.json", "net.json", "data.csv"])
>>> args.certificate, args.network, args.data, args.func is cmd_verify_certificate
('cert.json', 'net.json', 'data.csv', True)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from symtrunc.cli.app import add_command
from symtrunc.data.labeled import load_data
from symtrunc.errors import DataError, FormatError, VerificationError
from symtrunc.geometry.separability import NotSLSCertificate
from symtrunc.io.network_files import read_network
from symtrunc.verification.digest import DATA_DIGEST_VERSION, data_sha256, digest_version
from symtrunc.verification.recheck import read_certificate, recheck_certificate

__all__ = ["cmd_verify_certificate", "register"]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``verify-certificate`` subcommand."""
    c = add_command(
        subparsers,
        "verify-certificate",
        description="Check that the certificate CERT (written by 'symtrunc verify --certificate') "
        "speaks about NETWORK and DATA (their SHA-256 digests) and that its proof holds: the "
        "statement is proved again, with the certificate's method and targets, and compared.",
    )
    c.add_argument("certificate", help="certificate JSON file")
    c.add_argument(
        "network",
        help="network file, .json, .onnx, .safetensors, .pt or .npz (omit it for a not-SLS refusal certificate: then give "
        "only CERT DATA)",
    )
    c.add_argument(
        "data", nargs="?", help="data file the certificate was written for (.csv, .npz; .npy for --certified ones)"
    )
    c.add_argument("--labels", help="labels (.npy) for a DATA .npy file without a label column (certified)")
    c.add_argument("--chunk-size", type=int, default=65536, help="points per chunk for certified certificates")
    c.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    c.set_defaults(func=cmd_verify_certificate)


def cmd_verify_certificate(args: argparse.Namespace) -> int:
    """Handler of ``symtrunc verify-certificate``."""
    found = _refusal(args.certificate)
    if found is not None:  # written by 'construct --certificate' for data proved not SLS
        refusal, doc = found
        if args.data is not None:
            raise DataError(
                "a not-SLS certificate is checked against DATA alone: symtrunc verify-certificate CERT DATA"
            )
        data = load_data(args.network, check=False)
        recorded = doc.get("data_sha256")
        if recorded is not None and recorded != data_sha256(data, digest_version(doc)):
            raise VerificationError(
                f"{args.certificate}: the not-SLS certificate speaks about other data "
                f"(SHA-256 {recorded[:16]}…), not {args.network}"
            )
        try:
            holds = refusal.check(data)
        except (IndexError, ValueError):  # indices or dimensions of other data
            holds = False
        if not holds:
            raise VerificationError(f"{args.certificate}: the not-SLS certificate does not hold for {args.network}")
        if not args.quiet:
            print(
                f"verified:  exactly, the data are not sequentially linearly separable "
                f"({refusal.to_dict()['statement']}): {refusal.reason(data)}"
            )
        return 0
    if args.data is None:
        raise DataError("give CERT NETWORK DATA (or CERT DATA for a not-SLS certificate)")
    named = read_certificate(args.certificate)
    net = read_network(args.network)
    t0 = time.perf_counter()
    cert = recheck_certificate(
        named,
        net,
        args.data,
        labels=args.labels,
        chunk_size=args.chunk_size,
        progress=False if args.quiet else None,
    )
    if not args.quiet:
        inv = "and every layer invariant " if cert.invariants_checked else ""
        print(f"network:   SHA-256 {named.network_sha256} (as the certificate names)")
        fmt = (
            f", data digest format {named.data_digest_version}"
            if named.data_digest_version != DATA_DIGEST_VERSION
            else ""
        )
        print(f"data:      SHA-256 {named.data_sha256}{fmt}, {cert.n_points} points (as the certificate names)")
        print(
            f"verified:  again, zero loss {inv}({cert.method}, {time.perf_counter() - t0:.2f} s): the certificate holds"
        )
    return 0


def _refusal(path: str) -> tuple[NotSLSCertificate, dict[str, Any]] | None:
    """The not-SLS certificate in ``path`` and the file's JSON, or ``None`` if the file holds
    another kind."""
    try:
        d = json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(d, dict) or d.get("kind") != "symtrunc/not-sls":
        return None
    try:
        digest_version(d)  # a malformed data_digest_version is refused before any work
        return NotSLSCertificate.from_dict(d), d
    except FormatError as e:
        raise FormatError(f"{path}: {e}") from None
