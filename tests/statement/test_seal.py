"""The secretariat's seal: the operator installs it, cacnet seals a PDF with it, and anyone can
check that a file is a genuine, unchanged sealed document. Real keys, real PDFs, real pyHanko."""

from __future__ import annotations

import hashlib
import random
import stat
import time
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from cacnet.statement import seal
from cacnet.statement.seal import SealError, verify_pdf

# --- helpers --------------------------------------------------------------------------------


def blank_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


def make_certificate(
    key,
    common_name: str,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    issuer: x509.Certificate | None = None,
    issuer_key=None,
    non_repudiation: bool = True,
) -> x509.Certificate:
    now = datetime.now(UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - timedelta(days=1))
        .not_valid_after(not_after or now + timedelta(days=365))
    )
    if non_repudiation:
        builder = builder.add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
    if issuer is None:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), True)
    return builder.sign(issuer_key or key, hashes.SHA256())


def make_p12(key, certificate, passphrase: bytes | None, chain=()) -> bytes:
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return pkcs12.serialize_key_and_certificates(b"seal", key, certificate, list(chain), encryption)


def seal_files(instance: Path) -> dict[str, bytes]:
    folder = instance / "seal"
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture
def use_instance(app, monkeypatch, tmp_path):
    """Point the session app at a fresh instance folder for one test; returns it."""
    monkeypatch.setattr(app, "instance_path", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def sealed_instance(tmp_path_factory) -> Path:
    instance = tmp_path_factory.mktemp("sealed-instance")
    seal.init_seal(instance)
    return instance


@pytest.fixture(scope="module")
def sealed_pdf(sealed_instance) -> bytes:
    return seal.seal_pdf(
        blank_pdf(), sealed_instance, reason="Seoul Statement endorsement", location="Seoul"
    )


# --- installing the seal --------------------------------------------------------------------


def test_operator_creates_the_seal_and_the_key_is_never_readable_by_others(app, use_instance):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seal", "init", "--days", "400"])
    assert result.exit_code == 0, result.output

    folder = use_instance / "seal"
    key = folder / "key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert (folder / "certificate.pem").exists()
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")

    info = seal.certificate_info(use_instance)
    assert info.self_signed and not info.expired and not info.expires_soon
    assert 398 <= info.days_left <= 400
    assert info.not_after.tzinfo is not None
    assert "CN=Cities Alliance Against Pandemic — Secretariat" in info.subject
    assert info.fingerprint in result.output
    assert "PRIVATE KEY" not in result.output
    assert key.read_text().splitlines()[1] not in result.output

    certificate = x509.load_pem_x509_certificate(seal.certificate_pem(use_instance))
    assert certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    again = runner.invoke(args=["seal", "init"])
    assert again.exit_code == 1
    assert "already installed" in again.output and "--force" in again.output
    assert "Traceback" not in again.output
    assert seal.certificate_info(use_instance).fingerprint == info.fingerprint

    shown = runner.invoke(args=["seal", "show"])
    assert shown.exit_code == 0
    assert info.subject in shown.output
    assert info.not_after.strftime("%Y-%m-%d") in shown.output
    assert "warning" not in shown.output


def test_show_without_a_seal_says_how_to_make_one(app, use_instance):
    result = app.test_cli_runner().invoke(args=["seal", "show"])
    assert result.exit_code == 1
    assert "no seal installed: run flask --app cacnet seal init" in result.output


def test_sealing_without_a_seal_is_refused(tmp_path):
    with pytest.raises(SealError, match="no seal installed: run flask --app cacnet seal init"):
        seal.seal_pdf(blank_pdf(), tmp_path, reason="r", location="l")


# --- sealing --------------------------------------------------------------------------------


def test_sealed_pdf_satisfies_pyhanko_and_shows_the_seal_on_the_last_page(
    sealed_instance, sealed_pdf
):
    embedded = PdfFileReader(BytesIO(sealed_pdf), strict=False).embedded_signatures
    assert len(embedded) == 1
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der(seal.certificate_pem(sealed_instance)))],
        allow_fetching=False,
    )
    status = seal._outside_event_loop(validate_pdf_signature, embedded[0], context)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.md_algorithm == "sha256"

    reader = PdfReader(BytesIO(sealed_pdf))
    assert "/Annots" not in reader.pages[0]
    (widget,) = [a.get_object() for a in reader.pages[-1]["/Annots"]]
    assert widget["/FT"] == "/Sig" and widget["/T"] == "Seal"
    x1, y1, x2, y2 = (float(v) for v in widget["/Rect"])
    assert x2 - x1 > 100 and y2 - y1 > 30
    assert y1 > 20 / 25.4 * 72  # above a 20 mm footer
    assert not int(widget.get("/F", 0)) & 2  # not hidden
    assert b"Sealed by" in widget["/AP"]["/N"].get_object().get_data()
    assert widget["/V"]["/SubFilter"] == "/ETSI.CAdES.detached"
    assert widget["/V"]["/Reason"] == "Seoul Statement endorsement"

    verdict = verify_pdf(sealed_pdf, sealed_instance)
    assert verdict.genuine and verdict.code == "genuine"
    assert verdict.signer == "Cities Alliance Against Pandemic — Secretariat"
    assert abs(verdict.signed_at - datetime.now(UTC)) < timedelta(minutes=5)
    assert verdict.sha256 == hashlib.sha256(sealed_pdf).hexdigest()


def _der(pem: bytes) -> bytes:
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


# --- what a visitor may upload --------------------------------------------------------------


def _flip_producer_byte(pdf: bytes) -> bytes:
    # "/Producer (pypdf)" of the original revision: signed content, harmless to the parser
    position = pdf.index(b"pypdf")
    assert position < pdf.index(b"/ByteRange")
    changed = bytearray(pdf)
    changed[position] ^= 0x01
    return bytes(changed)


def _append_page_incrementally(pdf: bytes) -> bytes:
    writer = PdfWriter(BytesIO(pdf), incremental=True)
    writer.add_blank_page(595, 842)
    out = BytesIO()
    writer.write(out)
    assert out.getvalue().startswith(pdf)  # an incremental update keeps the sealed bytes
    return out.getvalue()


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(_flip_producer_byte, id="one byte flipped inside the signed content"),
        pytest.param(_append_page_incrementally, id="a page appended in an incremental update"),
        pytest.param(lambda pdf: pdf + b"\n", id="a newline appended after %%EOF"),
        pytest.param(lambda pdf: pdf + b"%% a comment\n", id="a comment appended after %%EOF"),
    ],
)
def test_any_change_after_sealing_is_reported_as_altered(sealed_instance, sealed_pdf, tamper):
    verdict = verify_pdf(tamper(sealed_pdf), sealed_instance)
    assert verdict.code == "altered" and not verdict.genuine
    assert verdict.signer is None and verdict.signed_at is None


def test_a_pdf_sealed_with_another_key_is_not_ours(sealed_instance, tmp_path):
    # same names as ours: a forger would copy them
    seal.init_seal(tmp_path)
    forged = seal.seal_pdf(blank_pdf(), tmp_path, reason="Declaration", location="Seoul")
    assert verify_pdf(forged, tmp_path).code == "genuine"
    verdict = verify_pdf(forged, sealed_instance)
    assert verdict.code == "other_signer" and verdict.signer is None


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"hello", "not_pdf"),
        (b"", "not_pdf"),
        (b"%PDF-1.7\n garbage without any structure", "not_pdf"),
        (blank_pdf(), "unsigned"),
        (b"%PDF-1.7\n" + b"0" * (21 * 1024 * 1024), "too_large"),
    ],
    ids=["text", "empty", "pdf header only", "unsigned pdf", "21 MB"],
)
def test_files_that_are_not_sealed_pdfs(sealed_instance, data, code):
    verdict = verify_pdf(data, sealed_instance)
    assert verdict.code == code and not verdict.genuine


def test_an_encrypted_pdf_is_reported_as_encrypted(sealed_instance):
    writer = PdfWriter(clone_from=PdfReader(BytesIO(blank_pdf())))
    writer.encrypt(user_password="", owner_password="owner-secret")
    out = BytesIO()
    writer.write(out)
    assert verify_pdf(out.getvalue(), sealed_instance).code == "encrypted"


def test_damaged_sealed_files_never_raise(sealed_instance, sealed_pdf):
    truncated = [sealed_pdf[:n] for n in (10, 600, len(sealed_pdf) // 2, len(sealed_pdf) - 20)]
    rng = random.Random(20200617)  # reproducible corruption
    corrupted = []
    for _ in range(20):
        changed = bytearray(sealed_pdf)
        changed[rng.randrange(len(changed))] = rng.randrange(256)
        corrupted.append(bytes(changed))
    for data in truncated + corrupted:
        verdict = verify_pdf(data, sealed_instance)
        assert verdict.code in seal.VERDICT_CODES
        if data != sealed_pdf:
            assert not verdict.genuine


def test_a_key_that_does_not_match_the_certificate_is_not_used(tmp_path, sealed_instance):
    seal.init_seal(tmp_path)
    (tmp_path / "seal" / "certificate.pem").write_bytes(seal.certificate_pem(sealed_instance))
    with pytest.raises(SealError, match="key and certificate do not match"):
        seal.seal_pdf(blank_pdf(), tmp_path, reason="r", location="l")


def test_verifying_without_a_seal_tells_the_operator(tmp_path, sealed_pdf):
    with pytest.raises(SealError, match="no seal installed"):
        verify_pdf(sealed_pdf, tmp_path)


def test_documents_sealed_before_the_seal_was_replaced_stay_genuine(app, use_instance):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seal", "init"]).exit_code == 0
    before = seal.seal_pdf(blank_pdf(), use_instance, reason="r", location="l")
    result = runner.invoke(args=["seal", "init", "--force", "--common-name", "CAAP Seal 2"])
    assert result.exit_code == 0, result.output
    assert "CN=CAAP Seal 2" in runner.invoke(args=["seal", "show"]).output
    assert verify_pdf(before, use_instance).code == "genuine"
    renewed = seal.seal_pdf(blank_pdf(), use_instance, reason="r", location="l")
    assert verify_pdf(renewed, use_instance).signer == "CAAP Seal 2"

    # an operator who deletes the retired certificate (a leaked key) revokes those documents
    for retired in (use_instance / "seal" / "retired").iterdir():
        retired.unlink()
    assert verify_pdf(before, use_instance).code == "other_signer"


def test_a_seal_stays_genuine_after_its_certificate_expires(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    # X.509 times have whole seconds: this certificate has one to two seconds left
    certificate = make_certificate(
        key, "Short-lived seal", not_after=datetime.now(UTC) + timedelta(seconds=2)
    )
    seal.import_p12(tmp_path, make_p12(key, certificate, None), None)
    sealed = seal.seal_pdf(blank_pdf(), tmp_path, reason="r", location="l")
    time.sleep((certificate.not_valid_after_utc - datetime.now(UTC)).total_seconds() + 0.1)
    assert seal.certificate_info(tmp_path).expired
    assert verify_pdf(sealed, tmp_path).code == "genuine"  # it was valid when it was sealed
    with pytest.raises(SealError, match="expired"):
        seal.seal_pdf(blank_pdf(), tmp_path, reason="r", location="l")


def test_a_signature_dated_outside_the_certificate_validity_is_invalid(tmp_path):
    # pyHanko ignores a trust anchor's validity period; cacnet checks the stated signing time.
    # seal_pdf refuses such a certificate, so sign with pyHanko directly, as a thief would.
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    certificate = make_certificate(
        key, "Future seal", not_before=now + timedelta(days=1), not_after=now + timedelta(days=9)
    )
    folder = tmp_path / "seal"
    folder.mkdir()
    (folder / "certificate.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(SealError, match="not valid before"):
        seal.seal_pdf(blank_pdf(), tmp_path, reason="r", location="l")

    signer = signers.SimpleSigner.load(str(folder / "key.pem"), str(folder / "certificate.pem"))
    # pyHanko's sync API runs asyncio.run(): outside the event loop a browser test may have left
    out = seal._outside_event_loop(
        signers.sign_pdf,
        IncrementalPdfFileWriter(BytesIO(blank_pdf())),
        signers.PdfSignatureMetadata(field_name="Seal", md_algorithm="sha256"),
        signer=signer,
    )
    (embedded,) = PdfFileReader(out, strict=False).embedded_signatures
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(_der(seal.certificate_pem(tmp_path)))]
    )
    accepted = seal._outside_event_loop(validate_pdf_signature, embedded, context)
    assert accepted.bottom_line  # pyHanko alone accepts it
    assert verify_pdf(out.getvalue(), tmp_path).code == "invalid"


# --- importing a seal from a CA -------------------------------------------------------------


@pytest.fixture
def ca():
    key = ec.generate_private_key(ec.SECP256R1())
    return key, make_certificate(key, "Test Qualified CA")


def test_operator_imports_a_ca_issued_seal_from_a_p12_file(app, use_instance, tmp_path, ca):
    ca_key, ca_certificate = ca
    key = ec.generate_private_key(ec.SECP384R1())
    certificate = make_certificate(
        key, "CAAP Secretariat e-Seal", issuer=ca_certificate, issuer_key=ca_key
    )
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(make_p12(key, certificate, b"s3cret pass", chain=[ca_certificate]))
    passphrase = tmp_path / "passphrase.txt"
    passphrase.write_bytes(b"s3cret pass\n")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["seal", "import", str(p12), "--passphrase-file", str(passphrase)])
    assert result.exit_code == 0, result.output
    assert "PRIVATE KEY" not in result.output
    shown = runner.invoke(args=["seal", "show"]).output
    assert "CN=CAAP Secretariat e-Seal" in shown and "CN=Test Qualified CA" in shown

    folder = use_instance / "seal"
    assert stat.S_IMODE((folder / "key.pem").stat().st_mode) == 0o600
    assert x509.load_pem_x509_certificates((folder / "chain.pem").read_bytes()) == [ca_certificate]
    info = seal.certificate_info(use_instance)
    assert not info.self_signed and info.issuer == "CN=Test Qualified CA"

    sealed = seal.seal_pdf(blank_pdf(), use_instance, reason="r", location="l")
    verdict = verify_pdf(sealed, use_instance)
    assert verdict.code == "genuine" and verdict.signer == "CAAP Secretariat e-Seal"


def test_the_passphrase_is_prompted_for_without_echo(app, use_instance, tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(make_p12(key, make_certificate(key, "Prompted seal"), b"typed"))
    result = app.test_cli_runner().invoke(args=["seal", "import", str(p12)], input="typed\n")
    assert result.exit_code == 0, result.output
    assert "typed" not in result.output.replace("Passphrase (empty for none):", "")
    assert seal.certificate_info(use_instance).subject == "CN=Prompted seal"


def test_a_wrong_passphrase_changes_nothing(app, use_instance, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seal", "init"]).exit_code == 0
    before = seal_files(use_instance)
    key = ec.generate_private_key(ec.SECP256R1())
    p12 = tmp_path / "seal.p12"
    p12.write_bytes(make_p12(key, make_certificate(key, "Other"), b"right"))
    wrong = tmp_path / "wrong.txt"
    wrong.write_bytes(b"wrong")

    result = runner.invoke(
        args=["seal", "import", str(p12), "--passphrase-file", str(wrong), "--force"]
    )
    assert result.exit_code == 1
    assert "wrong passphrase" in result.output and "Traceback" not in result.output
    assert seal_files(use_instance) == before

    not_p12 = tmp_path / "not.p12"
    not_p12.write_bytes(b"this is not PKCS#12")
    result = runner.invoke(args=["seal", "import", str(not_p12), "--force"], input="\n")
    assert result.exit_code == 1 and "not a PKCS#12 file" in result.output
    assert seal_files(use_instance) == before


def _refusal(tmp_path, p12: bytes, passphrase: bytes | None = None) -> str:
    with pytest.raises(SealError) as error:
        seal.import_p12(tmp_path, p12, passphrase)
    assert not (tmp_path / "seal").exists()
    return str(error.value)


def test_unusable_p12_files_are_refused(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    other_key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)

    expired = make_certificate(
        key, "Old", not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)
    )
    assert "expired" in _refusal(tmp_path, make_p12(key, expired, b"pw"), b"pw")

    # a key stored with another key's certificate: OpenSSL reports no certificate for the key
    mismatched = pkcs12.serialize_key_and_certificates(
        b"x", key, None, [make_certificate(other_key, "Someone else")], serialization.NoEncryption()
    )
    message = _refusal(tmp_path, mismatched)
    assert "no certificate that belongs to its private key" in message

    no_key = pkcs12.serialize_key_and_certificates(
        b"x", None, make_certificate(key, "Cert only"), None, serialization.NoEncryption()
    )
    assert "no private key" in _refusal(tmp_path, no_key)

    no_certificate = pkcs12.serialize_key_and_certificates(
        b"x", key, None, None, serialization.NoEncryption()
    )
    assert "no certificate" in _refusal(tmp_path, no_certificate)

    no_usage = make_certificate(key, "Any use", non_repudiation=False)
    assert "non-repudiation" in _refusal(tmp_path, make_p12(key, no_usage, None))


def test_operator_is_warned_when_the_seal_expires_soon(app, use_instance, tmp_path, create_user):
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = make_certificate(
        key, "Expiring seal", not_after=datetime.now(UTC) + timedelta(days=10, hours=1)
    )
    seal.import_p12(use_instance, make_p12(key, certificate, None), None)

    info = seal.certificate_info(use_instance)
    assert info.expires_soon and not info.expired and info.days_left == 10

    shown = app.test_cli_runner().invoke(args=["seal", "show"])
    assert shown.exit_code == 0
    assert "warning: the seal certificate expires in 10 days" in shown.output

    # and the secretariat's page says so
    from tests.conftest import PASSWORD, login

    client = app.test_client()
    create_user("officer@caap.example", role="secretariat")
    login(client, "officer@caap.example", PASSWORD)
    page = client.get("/secretariat/documents/").get_data(as_text=True)
    assert "certificate expires in 10 days. Install a new one before then." in page
    assert info.fingerprint in page
