"""Which addresses the webhook guard accepts, read as resolvers read them."""

from __future__ import annotations

import ipaddress

import pytest

from jobmatch.security.addresses import (
    AddressRefusedError,
    check_host,
    is_public,
    literal_address,
    pin,
)


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("2852039166", "169.254.169.254"),
        ("0", "0.0.0.0"),  # noqa: S104 - an address read, not bound
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("hooks.example.com", None),
    ],
)
def test_hosts_are_read_as_resolvers_read_them(host: str, address: str | None) -> None:
    found = literal_address(host)
    assert (str(found) if found else None) == address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",  # shared (carrier-grade NAT)
        "0.0.0.0",  # noqa: S104 - an address judged, not bound
        "224.0.0.1",  # multicast: Python calls it global
        "255.255.255.255",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fd00::1",
        "ff02::1",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::127.0.0.1",  # IPv4-compatible
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
    ],
)
def test_non_public_addresses_in_every_form_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::1"]
)
def test_public_addresses_pass(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "host", ["localhost", "localhost.", "LOCALHOST", "db.internal", "printer.local", "2130706433"]
)
def test_local_names_and_numeric_forms_are_refused_without_dns(host: str) -> None:
    with pytest.raises(AddressRefusedError):
        check_host(host)


def test_pin_rewrites_the_url_to_the_checked_address_and_keeps_the_name() -> None:
    v4 = pin("https://hooks.example.com/cb?a=1", lambda host, port: ["93.184.215.14"])
    assert (v4.url, v4.host_header, v4.sni_hostname) == (
        "https://93.184.215.14/cb?a=1",
        "hooks.example.com",
        "hooks.example.com",
    )
    v6 = pin("https://Hooks.Example.com:8443/cb", lambda host, port: ["2606:4700::1111"])
    assert v6.url == "https://[2606:4700::1111]:8443/cb"
    assert v6.host_header == "hooks.example.com:8443"


def test_pin_refuses_when_any_answer_is_not_public() -> None:
    with pytest.raises(AddressRefusedError, match="non-public"):
        pin("https://hooks.example.com/", lambda host, port: ["8.8.8.8", "10.0.0.1"])
    with pytest.raises(AddressRefusedError, match="no address"):
        pin("https://hooks.example.com/", lambda host, port: [])
    with pytest.raises(AddressRefusedError, match="https"):
        pin("http://hooks.example.com/", lambda host, port: ["8.8.8.8"])
