"""A local certificate authority and the broker's TLS server certificate, for a dealership's LAN.

The CA is made once and kept (wall screens and printer agents trust its certificate, `ca.crt`); the server
certificate names the broker host's names and addresses and is re-issued by the same CA whenever those
change or it nears its end. Keys are ECDSA P-256. The CA key never leaves its directory and only its owner
may read it: the broker needs the CA certificate, never the CA key.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from shopfloor.broker.files import make_dir, write_file

CA_CERT = "ca.crt"
CA_KEY = "ca.key"
SERVER_CERT = "server.crt"
SERVER_KEY = "server.key"

TLS_DIR = "tls"  # in the data directory

CA_DAYS = 3650
SERVER_DAYS = 730
RENEW_BEFORE = timedelta(days=30)
_BACKDATE = timedelta(hours=1)  # tolerate a client clock that is a little behind


class CertificateError(RuntimeError):
    """Existing certificate files that cannot be used (and are not overwritten without asking)."""


@dataclass(frozen=True)
class CertificateAuthority:
    cert: Path
    key: Path
    created: bool = False


@dataclass(frozen=True)
class ServerCertificate:
    cert: Path
    key: Path
    ca_cert: Path
    created: bool = False


def make_ca(out_dir: Path, name: str = "shopfloor local CA", *, days: int = CA_DAYS) -> CertificateAuthority:
    """OUT/ca.crt (0644) and OUT/ca.key (0600); an existing, usable CA is kept so clients' trust survives."""
    make_dir(out_dir)
    cert_path, key_path = out_dir / CA_CERT, out_dir / CA_KEY
    if cert_path.exists() or key_path.exists():
        _load_ca(cert_path, key_path)  # raises if it cannot be used
        return CertificateAuthority(cert_path, key_path)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "shopfloor"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE).not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    write_file(key_path, _key_pem(key), secret=True, broker_reads=False)
    write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return CertificateAuthority(cert_path, key_path, created=True)


def make_server_cert(out_dir: Path, hostnames: Sequence[str], addresses: Sequence[str],
                     ca: CertificateAuthority | None = None, *, days: int = SERVER_DAYS, cert_name: str = SERVER_CERT,
                     key_name: str = SERVER_KEY, broker_reads: bool = True) -> ServerCertificate:
    """OUT/server.crt (0644) and OUT/server.key (the broker's: 0640 mosquitto) for these DNS names and IP
    addresses, signed by `ca` (default: make_ca(out_dir)). Kept as is when it already names exactly these,
    is signed by this CA and has more than 30 days left; re-issued otherwise. Another server on this CA (the
    web server) keeps its own files (`cert_name`, `key_name`; `broker_reads=False`: the key is its owner's alone)."""
    if not hostnames and not addresses:
        raise ValueError("a server certificate needs at least one host name or address")
    ips = [ipaddress.ip_address(a) for a in addresses]  # ValueError names a malformed address
    ca = ca or make_ca(out_dir)
    ca_cert, ca_key = _load_ca(ca.cert, ca.key)
    make_dir(out_dir)
    cert_path, key_path = out_dir / cert_name, out_dir / key_name
    wanted = (frozenset(h.lower() for h in hostnames), frozenset(ips))
    if _still_good(cert_path, key_path, ca_cert, wanted):
        return ServerCertificate(cert_path, key_path, ca.cert)

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.now(UTC)
    common_name = hostnames[0] if hostnames else str(ips[0])
    san = [x509.DNSName(h) for h in hostnames] + [x509.IPAddress(ip) for ip in ips]
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "shopfloor"),
                                 x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(min(now + timedelta(days=days), ca_cert.not_valid_after_utc))
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    # key first: a reader that sees the new certificate must find its key
    write_file(key_path, _key_pem(key), secret=True, broker_reads=broker_reads)
    write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    return ServerCertificate(cert_path, key_path, ca.cert, created=True)


def site_certificate(data_dir: Path, site: str, hostnames: Sequence[str] = (), addresses: Sequence[str] = (), *,
                     cert_name: str = SERVER_CERT, key_name: str = SERVER_KEY,
                     broker_reads: bool = True) -> ServerCertificate:
    """A server certificate in DATA_DIR/tls from the site's CA there (made once and kept), naming this host
    (`local_names()`) plus `hostnames` and `addresses`: the broker's (server.crt) unless other file names are given."""
    names, ips = local_names()
    names += [h.lower() for h in hostnames if h.lower() not in names]
    ips += [a for a in addresses if a not in ips]
    tls_dir = data_dir.absolute() / TLS_DIR
    ca = make_ca(tls_dir, f"shopfloor {site} local CA")
    return make_server_cert(tls_dir, names, ips, ca=ca, cert_name=cert_name, key_name=key_name,
                            broker_reads=broker_reads)


def certificate_names(cert_path: Path) -> tuple[list[str], list[str]]:
    """The DNS names and IP addresses a certificate's SAN lists."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return san.get_values_for_type(x509.DNSName), [str(ip) for ip in san.get_values_for_type(x509.IPAddress)]


def local_names() -> tuple[list[str], list[str]]:
    """This host's names and addresses as LAN clients would reach it: short name, FQDN, `localhost`, the
    address of the default route's interface (found without sending anything) and loopback."""
    names: list[str] = []
    for name in (socket.gethostname(), socket.getfqdn(), "localhost"):
        if name and name.lower() not in names and not is_ip_address(name):
            names.append(name.lower())
    addresses: list[str] = []

    def add(address: str) -> None:
        ip = ipaddress.ip_address(address.split("%")[0])
        if str(ip) not in addresses and not ip.is_link_local:
            addresses.append(str(ip))

    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))  # UDP connect only picks a route; no packet leaves
                add(sock.getsockname()[0])
        except OSError:
            pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM):
            add(str(info[4][0]))
    except OSError:
        pass
    for loopback in ("127.0.0.1", "::1"):
        add(loopback)
    return names, addresses


def is_ip_address(text: str) -> bool:
    """Whether `text` is an IP address (v4 or v6) rather than a name: the two go in different SAN fields."""
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _load_ca(cert_path: Path, key_path: Path) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    if not (cert_path.exists() and key_path.exists()):
        present = cert_path if cert_path.exists() else key_path
        raise CertificateError(f"{present} exists without its {'key' if present == cert_path else 'certificate'}; "
                               "restore it, or remove both to make a new CA (clients must then trust the new one)")
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    except ValueError as exc:
        raise CertificateError(f"{cert_path} / {key_path}: cannot read the CA: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise CertificateError(f"{key_path} is not the key of {cert_path}")
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise CertificateError(f"{cert_path} is not a CA certificate")
    if cert.not_valid_after_utc <= datetime.now(UTC) + RENEW_BEFORE:
        raise CertificateError(f"the CA {cert_path} expires on {cert.not_valid_after_utc:%Y-%m-%d}: remove {cert_path} "
                               f"and {key_path} to make a new one, then give every client the new {CA_CERT}")
    return cert, key


def _still_good(cert_path: Path, key_path: Path, ca_cert: x509.Certificate,
                wanted: tuple[frozenset[str], frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]]) -> bool:
    if not (cert_path.exists() and key_path.exists()):
        return False
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert.verify_directly_issued_by(ca_cert)
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
        return False
    have = (frozenset(n.lower() for n in san.get_values_for_type(x509.DNSName)),
            frozenset(san.get_values_for_type(x509.IPAddress)))
    return (have == wanted and key.public_key() == cert.public_key()
            and cert.not_valid_after_utc > datetime.now(UTC) + RENEW_BEFORE)
