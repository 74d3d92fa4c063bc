"""The secretariat's seal: a PAdES signature that proves a PDF came from cacnet unchanged.

The seal is a private key and its X.509 certificate kept in ``<instance>/seal/``:

``key.pem``
    The private key, PKCS#8 PEM, unencrypted (the app must sign unattended), mode 0o600 from the
    moment it is created. It is never logged, printed or returned by any function here.
``certificate.pem``
    The certificate that goes into every signature and is the only trust root when verifying.
``chain.pem``
    Intermediate certificates, only when the seal was imported from a CA-issued PKCS#12 file.
``retired/<sha256>.pem``
    Certificates that ``--force`` replaced. Documents sealed with them keep verifying as genuine;
    delete a file there if its key was compromised, and those documents stop verifying.

``flask --app cacnet seal init`` makes a self-signed seal (enough to prove that a file came from
this installation), ``seal import`` installs one issued by a CA from a ``.p12`` file, and
``seal show`` prints which one is in use and warns when it is about to expire.

:func:`seal_pdf` adds a visible signature field to the last page and signs it PAdES B-B (SHA-256,
no timestamp authority: the server has no network). :func:`verify_pdf` answers the public question
"did the secretariat issue this exact file?" with a :class:`Verdict` whose ``code`` is one of
:data:`VERDICT_CODES`; it never raises on whatever bytes an anonymous visitor uploads.

Validation trusts our certificates only, fetches nothing and checks no revocation (a self-signed
certificate has neither CRL nor OCSP). Our certificate is the trust anchor itself, and
pyhanko-certvalidator does not check a trust anchor's validity period, so pyHanko alone would
accept a seal at any date; :func:`verify_pdf` therefore also requires the signing time the signature
states (``/M``, covered by the signature) to lie within the certificate's validity. That keeps
documents sealed before the certificate expired genuine afterwards, which a B-B signature without a
timestamp authority could not otherwise be; :func:`seal_pdf` refuses to seal with a certificate
that has expired or is not valid yet.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import click
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from flask import current_app
from flask.cli import AppGroup

SEAL_FOLDER = "seal"
KEY_FILE = "key.pem"
CERTIFICATE_FILE = "certificate.pem"
CHAIN_FILE = "chain.pem"
RETIRED_FOLDER = "retired"

DEFAULT_COMMON_NAME = "Cities Alliance Against Pandemic — Secretariat"
DEFAULT_ORGANISATION = "Cities Alliance Against Pandemic"
DEFAULT_DAYS = 825
EXPIRES_SOON_DAYS = 30
MAX_VERIFY_BYTES = 20 * 1024 * 1024

# x1, y1, x2, y2 in PDF points (1 pt = 1/72 in) from the bottom-left corner of an A4 page
# (595 x 842 pt): 15 mm from the right edge, its bottom edge 22 mm up, above a 20 mm footer.
DEFAULT_SEAL_BOX: tuple[float, float, float, float] = (315.0, 62.0, 552.0, 122.0)

# pyHanko's default stamp font is the standard Courier with WinAnsiEncoding, which has no glyph
# for most non-Latin text (and shows "—" as a wrong character), so the stamp is folded to ASCII.
STAMP_TEXT = "Sealed by\n%(sealer)s\n%(ts)s"
STAMP_TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S %Z"

VERDICT_CODES = (
    "genuine",  # sealed with our certificate, nothing changed since
    "not_pdf",  # does not start with %PDF- or cannot be parsed as a PDF
    "too_large",  # larger than max_bytes; not even looked at
    "encrypted",  # the PDF is encrypted; a sealed declaration never is
    "unsigned",  # a PDF without any signature
    "other_signer",  # an intact signature, but not made with our certificate
    "altered",  # changed after sealing: bytes inside modified, or anything added after the seal
    "invalid",  # a signature pyHanko cannot validate (broken CMS, bad signature value, …)
)


class SealError(ValueError):
    """Something about the seal or the input that the operator must fix; the message says what."""


@dataclass(frozen=True)
class SealInfo:
    """What an operator needs to know about the installed certificate (nothing secret)."""

    subject: str  # RFC 4514
    issuer: str  # RFC 4514
    fingerprint: str  # SHA-256 of the DER certificate, "AB:CD:…"
    not_before: datetime  # aware, UTC
    not_after: datetime  # aware, UTC
    days_left: int  # whole days until not_after; negative once expired
    expires_soon: bool  # not expired yet, but expires within EXPIRES_SOON_DAYS
    expired: bool
    self_signed: bool


@dataclass(frozen=True)
class Verdict:
    """The answer to "is this file a genuine sealed cacnet document?".

    ``signed_at`` and ``signer`` are only filled in when ``genuine``: for any other file they
    would repeat what its author chose to write (a forger can name himself "Secretariat")."""

    genuine: bool
    code: str  # one of VERDICT_CODES
    sha256: str  # lowercase hex digest of the bytes examined
    signed_at: datetime | None = None
    signer: str | None = None


# --- storage --------------------------------------------------------------------------------

# the key types pyHanko's SimpleSigner can sign with (DSA aside, which nobody should use)
_PrivateKey = (
    ec.EllipticCurvePrivateKey
    | rsa.RSAPrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
)


def seal_folder(instance_path: str | os.PathLike) -> Path:
    """The folder that holds (or will hold) the seal; nothing is created."""
    return Path(instance_path) / SEAL_FOLDER


def _write_file(path: Path, data: bytes, mode: int) -> None:
    """Replace ``path`` atomically with ``data``; the file has ``mode`` from its creation on."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # the umask may have taken bits from 0o644; never adds any to 0o600
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _install(
    instance_path: str | os.PathLike,
    key: _PrivateKey,
    certificate: x509.Certificate,
    chain: list[x509.Certificate],
) -> SealInfo:
    folder = seal_folder(instance_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    current = folder / CERTIFICATE_FILE
    if current.exists():
        # keep the replaced certificate so that documents sealed with it still verify
        retired = folder / RETIRED_FOLDER
        retired.mkdir(mode=0o700, exist_ok=True)
        old_pem = current.read_bytes()
        try:
            name = _fingerprint(x509.load_pem_x509_certificate(old_pem)).replace(":", "").lower()
            _write_file(retired / f"{name}.pem", old_pem, 0o644)
        except ValueError:
            pass  # an unreadable certificate sealed nothing that could verify
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_file(folder / KEY_FILE, key_pem, 0o600)
    _write_file(current, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    if chain:
        pems = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        _write_file(folder / CHAIN_FILE, pems, 0o644)
    else:
        (folder / CHAIN_FILE).unlink(missing_ok=True)
    return _info(certificate)


def _refuse_overwrite(instance_path: str | os.PathLike, force: bool) -> None:
    folder = seal_folder(instance_path)
    if force or not ((folder / KEY_FILE).exists() or (folder / CERTIFICATE_FILE).exists()):
        return
    info = certificate_info(instance_path)
    which = f" ({info.subject}, {info.fingerprint})" if info else ""
    raise SealError(f"a seal is already installed{which}; use --force to replace it")


# --- creating and importing a seal ----------------------------------------------------------


def init_seal(
    instance_path: str | os.PathLike,
    common_name: str = DEFAULT_COMMON_NAME,
    organisation: str = DEFAULT_ORGANISATION,
    days: int = DEFAULT_DAYS,
    force: bool = False,
) -> SealInfo:
    """Create a new key and a self-signed certificate valid for ``days`` days and install them.

    The key is ECDSA P-256: pyHanko signs and validates it natively (``sha256_ecdsa``), Adobe
    Reader has accepted ECDSA signatures since version X, it is generated instantly (RSA-3072
    takes up to seconds) and its signatures are 70 bytes instead of 384. The certificate asserts
    digitalSignature and nonRepudiation (pyHanko's validator requires the latter by default),
    is its own CA (it is the trust root) and carries a subject key identifier.

    Refuses (SealError) to replace an installed seal unless ``force``; a replaced certificate is
    kept in ``retired/`` so earlier documents still verify.
    """
    if days < 1:
        raise SealError("the certificate must be valid for at least one day")
    if not common_name.strip():
        raise SealError("the common name must not be empty")
    _refuse_overwrite(instance_path, force)
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name.strip())]
    if organisation.strip():
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation.strip()))
    name = x509.Name(attributes)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # tolerate a verifier's slow clock
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return _install(instance_path, key, certificate, [])


def import_p12(
    instance_path: str | os.PathLike,
    p12_bytes: bytes,
    passphrase: bytes | None,
    force: bool = False,
) -> SealInfo:
    """Install the key, certificate and intermediate certificates of a PKCS#12 (.p12/.pfx) file.

    Refuses with a SealError, changing nothing, when the passphrase is wrong or the data is not
    PKCS#12, when it lacks the private key or a certificate that belongs to that key, when
    the key is of a kind pyHanko cannot sign with (or RSA under 2048 bits), when the
    certificate is expired or not valid yet, when it does not allow non-repudiation signatures
    (pyHanko's validator would reject every seal), and when a seal is installed and not ``force``.
    """
    try:
        key, certificate, chain = pkcs12.load_key_and_certificates(p12_bytes, passphrase or None)
    except (ValueError, TypeError):
        raise SealError("cannot open the PKCS#12 file: wrong passphrase, or not a PKCS#12 file")
    if key is None:
        raise SealError("the PKCS#12 file holds no private key")
    if certificate is None:
        # OpenSSL only returns the certificate that matches the key: a certificate for another
        # key ends up among the additional ones
        raise SealError("the PKCS#12 file holds no certificate that belongs to its private key")
    if not isinstance(key, _PrivateKey):
        raise SealError("the key must be RSA, ECDSA or EdDSA")
    if isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048:
        raise SealError("the RSA key is too short (under 2048 bits)")
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        raise SealError("the PKCS#12 file holds no certificate that belongs to its private key")
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc <= now:
        raise SealError(f"the certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}")
    if certificate.not_valid_before_utc > now:
        raise SealError(
            f"the certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        non_repudiation = usage.content_commitment
    except x509.ExtensionNotFound:
        non_repudiation = False
    if not non_repudiation:
        raise SealError(
            "the certificate does not allow non-repudiation (content commitment) signatures"
        )
    _refuse_overwrite(instance_path, force)
    return _install(instance_path, key, certificate, list(chain))


# --- reading the seal -----------------------------------------------------------------------


def _spki(public_key) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def _info(certificate: x509.Certificate) -> SealInfo:
    now = datetime.now(UTC)
    not_after = certificate.not_valid_after_utc
    expired = not_after <= now
    try:
        certificate.verify_directly_issued_by(certificate)
        self_signed = True
    except (ValueError, TypeError, InvalidSignature):
        self_signed = False
    return SealInfo(
        subject=certificate.subject.rfc4514_string(),
        issuer=certificate.issuer.rfc4514_string(),
        fingerprint=_fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=not_after,
        days_left=(not_after - now).days,
        expires_soon=not expired and not_after - now <= timedelta(days=EXPIRES_SOON_DAYS),
        expired=expired,
        self_signed=self_signed,
    )


def _load_certificate(instance_path: str | os.PathLike) -> x509.Certificate | None:
    path = seal_folder(instance_path) / CERTIFICATE_FILE
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except FileNotFoundError:
        return None
    except ValueError:
        raise SealError(f"{path} is not a PEM certificate")


def certificate_info(instance_path: str | os.PathLike) -> SealInfo | None:
    """The installed certificate's details, read from disk on every call; None without a seal,
    SealError when ``certificate.pem`` is not a PEM certificate."""
    certificate = _load_certificate(instance_path)
    return _info(certificate) if certificate is not None else None


def certificate_pem(instance_path: str | os.PathLike) -> bytes:
    """The installed certificate in PEM, e.g. to publish it; SealError without a seal."""
    certificate = _load_certificate(instance_path)
    if certificate is None:
        raise SealError(_NO_SEAL)
    return certificate.public_bytes(serialization.Encoding.PEM)


_NO_SEAL = "no seal installed: run flask --app cacnet seal init"


def _trusted_certificates(instance_path: str | os.PathLike) -> list[x509.Certificate]:
    """The current certificate, then the retired ones that are still readable."""
    current = _load_certificate(instance_path)
    if current is None:
        raise SealError(_NO_SEAL)
    certificates = [current]
    for path in sorted((seal_folder(instance_path) / RETIRED_FOLDER).glob("*.pem")):
        try:
            certificates.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError):
            continue
    return certificates


# --- sealing --------------------------------------------------------------------------------


def _ascii(text: str) -> str:
    """``text`` as the standard Courier font can show it: dashes and accents folded to ASCII."""
    text = text.translate({0x2013: "-", 0x2014: "-", 0x2018: "'", 0x2019: "'"})
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return " ".join(text.split())


def _common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else certificate.subject.rfc4514_string()


def seal_pdf(
    pdf_bytes: bytes,
    instance_path: str | os.PathLike,
    *,
    reason: str,
    location: str,
    field_name: str = "Seal",
    page: int = -1,
    box: tuple[float, float, float, float] = DEFAULT_SEAL_BOX,
) -> bytes:
    """Return ``pdf_bytes`` with the seal appended as an incremental update.

    The seal is a visible signature field ``field_name`` on ``page`` (default: the last page) at
    ``box`` (x1, y1, x2, y2 in points), showing "Sealed by <common name> <signing time>", and a
    PAdES B-B signature (SubFilter ETSI.CAdES.detached, SHA-256) made with the installed key that
    embeds the certificate and chain and covers the whole returned file.

    Raises SealError when no seal is installed, the key and certificate do not match, the
    certificate has expired or is not valid yet, the box or page is wrong, or pyHanko cannot
    sign the input.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko.stamp import TextStampStyle
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    folder = seal_folder(instance_path)
    certificate = _load_certificate(instance_path)
    try:
        key = serialization.load_pem_private_key((folder / KEY_FILE).read_bytes(), password=None)
    except FileNotFoundError:
        raise SealError(_NO_SEAL)
    except (ValueError, TypeError):
        raise SealError(f"{folder / KEY_FILE} is not an unencrypted PEM private key")
    except OSError as error:
        raise SealError(f"cannot read {folder / KEY_FILE}: {error.strerror}")
    if certificate is None:
        raise SealError(_NO_SEAL)
    if _spki(key.public_key()) != _spki(certificate.public_key()):
        raise SealError("the seal's key and certificate do not match: install the seal again")
    now = datetime.now(UTC)
    if certificate.not_valid_after_utc <= now:
        raise SealError(
            f"the seal certificate expired on {certificate.not_valid_after_utc:%Y-%m-%d}: "
            "run flask --app cacnet seal init --force, or seal import a new one"
        )
    if certificate.not_valid_before_utc > now:
        raise SealError(
            f"the seal certificate is not valid before {certificate.not_valid_before_utc:%Y-%m-%d}"
        )
    chain: list[x509.Certificate] = []
    chain_path = folder / CHAIN_FILE
    if chain_path.exists():
        chain = x509.load_pem_x509_certificates(chain_path.read_bytes())

    x1, y1, x2, y2 = (float(v) for v in box)
    if not (x2 > x1 and y2 > y1):
        raise SealError("the seal box must be (x1, y1, x2, y2) with x2 > x1 and y2 > y1")
    if not field_name or "." in field_name:
        raise SealError("the field name must be non-empty and contain no period")

    der = serialization.Encoding.DER
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs(
            [asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]
        ),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location,
        name=_common_name(certificate),
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=signer,
        stamp_style=TextStampStyle(stamp_text=STAMP_TEXT, timestamp_format=STAMP_TIMESTAMP_FORMAT),
        new_field_spec=fields.SigFieldSpec(
            sig_field_name=field_name, on_page=page, box=(x1, y1, x2, y2)
        ),
    )
    try:
        writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
        output = _outside_event_loop(
            pdf_signer.sign_pdf,
            writer,
            appearance_text_params={"sealer": _ascii(_common_name(certificate)) or "the seal"},
            output=BytesIO(),
        )
    except Exception as error:  # pyHanko raises many kinds (PdfReadError, SigningError, …)
        raise SealError(f"cannot seal this PDF: {error}") from error
    return output.getvalue()


def _outside_event_loop(func, *args, **kwargs):
    """Call one of pyHanko's synchronous entry points, which run ``asyncio.run()`` inside: in a
    thread with an event loop already running (an async server, gevent, a test driving a browser)
    that fails, so the call then runs in a short-lived thread of its own."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return func(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(func, *args, **kwargs).result()


# --- verifying ------------------------------------------------------------------------------


def verify_pdf(
    pdf_bytes: bytes, instance_path: str | os.PathLike, max_bytes: int = MAX_VERIFY_BYTES
) -> Verdict:
    """Say whether ``pdf_bytes`` is a document sealed by us and unchanged since.

    Looks at the last signature in the file only. ``genuine`` requires all of: the signature is
    intact (the signed bytes hash to the signed digest), it covers the entire file (nothing, not
    even a byte, was appended after it), its signer certificate is byte for byte one of ours
    (current or retired), pyHanko validates it against our certificates as the only trust
    roots, and the signing time it states lies within that certificate's validity. Every other
    outcome maps to one code of :data:`VERDICT_CODES`, checked in that order.

    Never raises because of the input, whatever it is; raises SealError only when no seal is
    installed (then nothing could be genuine, and the operator must know).
    """
    sha256 = hashlib.sha256(pdf_bytes).hexdigest()
    ours = _trusted_certificates(instance_path)

    def verdict(code: str, signed_at: datetime | None = None, signer: str | None = None):
        return Verdict(code == "genuine", code, sha256, signed_at, signer)

    if len(pdf_bytes) > max_bytes:
        return verdict("too_large")
    if not pdf_bytes.startswith(b"%PDF-"):
        return verdict("not_pdf")

    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        if reader.encrypted:
            return verdict("encrypted")
        signatures = reader.embedded_signatures
    except Exception:  # hostile input: any parser failure means "not a PDF we can read"
        return verdict("not_pdf")
    if not signatures:
        return verdict("unsigned")
    try:
        return verdict(*_judge(signatures[-1], ours))
    except Exception:  # a malformed signature dictionary or CMS blob
        return verdict("invalid")


def _judge(embedded, ours: list[x509.Certificate]) -> tuple[str, datetime | None, str | None]:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    ours_der = [c.public_bytes(serialization.Encoding.DER) for c in ours]
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(der) for der in ours_der],
        allow_fetching=False,
        revocation_mode="soft-fail",  # no CRL or OCSP to consult, and that is not a failure
    )
    # the difference analysis only matters for updates after the signature, and those are
    # "altered" for us anyway (coverage below ENTIRE_FILE)
    status = _outside_event_loop(validate_pdf_signature, embedded, context, skip_diff=True)
    if not status.intact:
        return "altered", None, None
    if embedded.signer_cert.dump() not in ours_der:
        return "other_signer", None, None
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return "altered", None, None
    if not (status.valid and status.trusted and status.bottom_line):
        return "invalid", None, None
    certificate = ours[ours_der.index(embedded.signer_cert.dump())]
    # pyHanko does not check the validity period of a trust anchor (see the module docstring)
    claimed = embedded.self_reported_timestamp
    if claimed is not None and claimed.tzinfo is None:
        claimed = claimed.replace(tzinfo=UTC)
    if claimed is None or not (
        certificate.not_valid_before_utc <= claimed <= certificate.not_valid_after_utc
    ):
        return "invalid", None, None
    return "genuine", claimed, _common_name(certificate)


# --- flask --app cacnet seal … --------------------------------------------------------------

seal_cli = AppGroup("seal", help="The secretariat's PDF seal (key and certificate).")


def _echo_info(info: SealInfo) -> None:
    click.echo(f"subject:     {info.subject}")
    if not info.self_signed:
        click.echo(f"issuer:      {info.issuer}")
    click.echo(f"fingerprint: SHA-256 {info.fingerprint}")
    click.echo(f"valid until: {info.not_after:%Y-%m-%d %H:%M} UTC ({info.days_left} days left)")


def _echo_warning(info: SealInfo) -> None:
    if info.expired:
        click.echo(
            f"warning: the seal certificate expired on {info.not_after:%Y-%m-%d}; "
            "nothing can be sealed until it is replaced (seal init --force or seal import)",
            err=True,
        )
    elif info.expires_soon:
        click.echo(
            f"warning: the seal certificate expires in {info.days_left} days "
            f"({info.not_after:%Y-%m-%d}); replace it with seal init --force or seal import",
            err=True,
        )


@seal_cli.command("init")
@click.option("--common-name", default=DEFAULT_COMMON_NAME, show_default=True)
@click.option("--organisation", default=DEFAULT_ORGANISATION, show_default=True)
@click.option("--days", type=click.IntRange(min=1), default=DEFAULT_DAYS, show_default=True)
@click.option("--force", is_flag=True, help="Replace an installed seal (its certificate is kept).")
def seal_init_command(common_name: str, organisation: str, days: int, force: bool) -> None:
    """Create a new key and a self-signed seal certificate."""
    try:
        info = init_seal(
            current_app.instance_path, common_name, organisation, days=days, force=force
        )
    except SealError as error:
        raise click.ClickException(str(error))
    click.echo(f"seal created in {seal_folder(current_app.instance_path)}")
    _echo_info(info)


@seal_cli.command("import")
@click.argument("p12_file", type=click.File("rb"))
@click.option(
    "--passphrase-file",
    type=click.File("rb"),
    help="Read the passphrase from this file (one line); prompted for otherwise.",
)
@click.option("--force", is_flag=True, help="Replace an installed seal (its certificate is kept).")
def seal_import_command(p12_file, passphrase_file, force: bool) -> None:
    """Install the key and certificate of a PKCS#12 (.p12 / .pfx) file."""
    if passphrase_file is not None:
        passphrase = passphrase_file.read().rstrip(b"\r\n")
    else:
        typed = click.prompt(
            "Passphrase (empty for none)", hide_input=True, default="", show_default=False
        )
        passphrase = typed.encode("utf-8")
    try:
        info = import_p12(current_app.instance_path, p12_file.read(), passphrase or None, force)
    except SealError as error:
        raise click.ClickException(str(error))
    click.echo(f"seal imported into {seal_folder(current_app.instance_path)}")
    _echo_info(info)
    _echo_warning(info)


@seal_cli.command("show")
def seal_show_command() -> None:
    """Print the installed seal certificate and warn when it expires soon."""
    try:
        info = certificate_info(current_app.instance_path)
    except SealError as error:
        raise click.ClickException(str(error))
    if info is None:
        raise click.ClickException(_NO_SEAL)
    _echo_info(info)
    _echo_warning(info)
