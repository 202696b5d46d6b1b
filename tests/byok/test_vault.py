"""The vault: AES-256-GCM with the row bound as associated data, a key-version tag, master
keys from the environment (or an embedded key file), and nothing secret in any message."""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import pickle
import re
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from launchgate.byok import vault as vault_module
from launchgate.byok.vault import MasterKeyError, Vault, VaultError, load_vault
from launchgate.config import Settings, SettingsError
from tests.conftest import make_settings

ORG = uuid.UUID("6f1c2a4e-0000-4000-8000-000000000001")
KEY = uuid.UUID("6f1c2a4e-0000-4000-8000-000000000002")
BINDING: dict[str, Any] = {"org_id": ORG, "key_id": KEY, "provider": "openai"}
PLAINTEXT = "sk-proj-" + "Zq3" * 16
FORMAT = re.compile(r"^v1\.[0-9a-f]{8}\.[A-Za-z0-9_-]+$")
MAKE_ONE = 'python -c "import secrets; print(secrets.token_hex(32))"'
ENV_NAMES = (
    "BYOK_ENCRYPTION_KEY",
    "BYOK_ENCRYPTION_KEY_PREVIOUS",
    "LAUNCHGATE_BYOK_ENCRYPTION_KEY",
    "LAUNCHGATE_BYOK_ENCRYPTION_KEY_PREVIOUS",
    "LAUNCHGATE_ENV",
)


@pytest.fixture(autouse=True)
def no_master_key_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the keys a test sets: none leak in from the shell or CI."""
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def raw() -> bytes:
    return os.urandom(32)


@pytest.fixture
def vault(raw: bytes) -> Vault:
    return Vault(raw)


def spellings(raw: bytes) -> list[str]:
    """Every way an operator may write a key down: what must never be shown."""
    return [
        raw.hex(),
        raw.hex().upper(),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ]


def assert_no_key_material(text: str, *raws: bytes) -> None:
    for raw in raws:
        for spelling in spellings(raw):
            assert spelling not in text and spelling.rstrip("=") not in text


def blob(ciphertext: str) -> bytes:
    """nonce + ciphertext + tag, decoded."""
    body = ciphertext.split(".")[2]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))


def blob_length(ciphertext: str) -> int:
    return len(blob(ciphertext))


def flip(ciphertext: str, index: int, bit: int) -> str:
    """The same ciphertext with one bit of its nonce+ciphertext+tag flipped."""
    version, kid, _ = ciphertext.split(".")
    flipped = bytearray(blob(ciphertext))
    flipped[index] ^= 1 << bit
    return f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(flipped)).decode().rstrip('=')}"


# --- Sealing and opening -------------------------------------------------------------------


def test_round_trip(vault: Vault) -> None:
    sealed = vault.seal(PLAINTEXT, **BINDING)
    assert vault.open(sealed, **BINDING) == PLAINTEXT


def test_the_ciphertext_is_versioned_and_names_the_master_key_by_fingerprint(
    vault: Vault, raw: bytes
) -> None:
    sealed = vault.seal(PLAINTEXT, **BINDING)
    assert FORMAT.match(sealed), sealed
    kid = hashlib.sha256(raw).hexdigest()[:8]
    assert sealed.split(".")[1] == kid == vault.current_kid
    # nonce (12) + ciphertext (as long as the UTF-8 text) + tag (16)
    assert blob_length(sealed) == 12 + len(PLAINTEXT.encode()) + 16
    assert PLAINTEXT not in sealed and PLAINTEXT[:8] not in sealed
    assert_no_key_material(sealed, raw)


@settings(max_examples=200, deadline=None)
@given(
    plaintext=st.text(min_size=1),
    provider=st.sampled_from(["openai", "anthropic", "google", "azure_openai"]),
)
def test_any_text_round_trips(plaintext: str, provider: str) -> None:
    vault = Vault(bytes(range(32)))
    binding = {**BINDING, "provider": provider}
    assert vault.open(vault.seal(plaintext, **binding), **binding) == plaintext


def test_two_seals_of_the_same_key_differ(vault: Vault) -> None:
    first, second = vault.seal(PLAINTEXT, **BINDING), vault.seal(PLAINTEXT, **BINDING)
    assert first != second
    assert blob(first)[:12] != blob(second)[:12]
    assert vault.open(first, **BINDING) == vault.open(second, **BINDING) == PLAINTEXT


@pytest.mark.parametrize(
    "moved",
    [
        {"key_id": uuid.UUID("6f1c2a4e-0000-4000-8000-000000000003")},
        {"org_id": uuid.UUID("6f1c2a4e-0000-4000-8000-000000000004")},
        {"provider": "anthropic"},
        {"provider": "openai "},
    ],
)
def test_a_ciphertext_moved_to_another_row_does_not_open(
    vault: Vault, moved: dict[str, Any]
) -> None:
    sealed = vault.seal(PLAINTEXT, **BINDING)
    target = {**BINDING, **moved}
    with pytest.raises(VaultError) as caught:
        vault.open(sealed, **target)
    message = str(caught.value)
    assert f"BYOK key {target['key_id']} cannot be decrypted" in message
    assert sealed not in message and sealed.split(".")[2][:16] not in message
    assert caught.value.key_id == target["key_id"]


def test_a_flipped_bit_in_any_byte_does_not_open(vault: Vault) -> None:
    sealed = vault.seal(PLAINTEXT, **BINDING)
    for index in range(blob_length(sealed)):
        with pytest.raises(VaultError, match="cannot be decrypted"):
            vault.open(flip(sealed, index, index % 8), **BINDING)


@given(data=st.data())
def test_a_flipped_bit_anywhere_does_not_open(data: st.DataObject) -> None:
    vault = Vault(bytes(range(32)))
    sealed = vault.seal(data.draw(st.text(min_size=1)), **BINDING)
    index = data.draw(st.integers(0, blob_length(sealed) - 1))
    with pytest.raises(VaultError):
        vault.open(flip(sealed, index, data.draw(st.integers(0, 7))), **BINDING)


@pytest.mark.parametrize(
    "ciphertext",
    [
        "",
        "v1",
        "v1..",
        "v2.00000000.AAAA",
        "v1.ZZZZZZZZ.AAAA",
        "v1.0000000.AAAA",
        "v1.00000000.!!!!",
        "v1.00000000.AAAA",
        "v1.00000000.AAAA.AAAA",
        "sk-plain-text-key",
        "v1.00000000." + "A" * 30 + "!" + "A" * 30,
        "v1.00000000." + "A" * 40 + "==",
    ],
)
def test_a_malformed_ciphertext_is_refused_without_being_quoted(
    vault: Vault, ciphertext: str
) -> None:
    with pytest.raises(VaultError, match=f"BYOK key {KEY} has a malformed ciphertext") as caught:
        vault.open(ciphertext, **BINDING)
    assert ciphertext == "" or ciphertext not in str(caught.value)
    assert vault.is_current(ciphertext) is False


def test_text_that_is_not_unicode_is_refused_without_being_quoted(vault: Vault) -> None:
    with pytest.raises(VaultError) as caught:
        vault.seal("sk-\ud800secret", **BINDING)
    assert "secret" not in str(caught.value) and "ud800" not in str(caught.value)


# --- Master keys: wrong, previous, rotation --------------------------------------------------


def test_a_wrong_master_key_fails_clearly_and_shows_no_key(raw: bytes) -> None:
    sealed = Vault(raw).seal(PLAINTEXT, **BINDING)
    other = os.urandom(32)
    with pytest.raises(VaultError) as caught:
        Vault(other).open(sealed, **BINDING)
    message = str(caught.value)
    assert message.startswith(f"BYOK key {KEY} cannot be decrypted with the configured master keys")
    assert "BYOK_ENCRYPTION_KEY_PREVIOUS" in message
    assert sealed not in message and sealed.split(".")[2][:16] not in message
    assert PLAINTEXT not in message
    assert_no_key_material(message, raw, other)
    assert not isinstance(caught.value, MasterKeyError)


def test_a_tag_that_names_the_key_but_does_not_authenticate_fails(vault: Vault) -> None:
    """A ciphertext made under another key, relabelled with this vault's fingerprint."""
    foreign = Vault(os.urandom(32)).seal(PLAINTEXT, **BINDING)
    relabelled = ".".join(["v1", vault.current_kid, foreign.split(".")[2]])
    with pytest.raises(VaultError, match="authentication failed"):
        vault.open(relabelled, **BINDING)


def test_a_previous_key_opens_but_is_not_current(raw: bytes) -> None:
    old = Vault(raw).seal(PLAINTEXT, **BINDING)
    rotated = Vault(os.urandom(32), [raw])
    assert rotated.open(old, **BINDING) == PLAINTEXT
    assert rotated.is_current(old) is False
    assert rotated.is_current(rotated.seal(PLAINTEXT, **BINDING)) is True


def test_reseal_moves_a_ciphertext_to_the_current_key(raw: bytes) -> None:
    new = os.urandom(32)
    old = Vault(raw).seal(PLAINTEXT, **BINDING)
    resealed = Vault(new, [raw]).reseal(old, **BINDING)
    assert Vault(new).is_current(resealed)
    # Once resealed, the old key is no longer needed.
    assert Vault(new).open(resealed, **BINDING) == PLAINTEXT
    with pytest.raises(VaultError):
        Vault(raw).open(resealed, **BINDING)


def test_reseal_of_a_row_no_key_opens_fails_with_its_id(vault: Vault) -> None:
    foreign = Vault(os.urandom(32)).seal(PLAINTEXT, **BINDING)
    with pytest.raises(VaultError, match=str(KEY)):
        vault.reseal(foreign, **BINDING)


def test_a_previous_key_equal_to_the_current_one_is_harmless(raw: bytes) -> None:
    vault = Vault(raw, [raw, raw])
    assert vault.open(vault.seal(PLAINTEXT, **BINDING), **BINDING) == PLAINTEXT
    assert "accepted=1" in repr(vault)


def test_a_vault_refuses_a_key_that_is_not_32_bytes() -> None:
    for size in (0, 16, 31, 33, 64):
        with pytest.raises(MasterKeyError):
            Vault(b"k" * size)


# --- Reprs: secrets refuse to show themselves ------------------------------------------------


def test_a_vault_shows_no_key_and_cannot_be_pickled_or_copied(raw: bytes) -> None:
    previous = os.urandom(32)
    vault = Vault(raw, [previous])
    for shown in (repr(vault), str(vault), f"{vault!r}", repr(vault.__dict__)):
        assert_no_key_material(shown, raw, previous)
    assert vault.current_kid in repr(vault)
    for attempt in (pickle.dumps, copy.copy, copy.deepcopy):
        with pytest.raises(TypeError):
            attempt(vault)


def test_settings_show_no_master_key(tmp_path: Path, raw: bytes) -> None:
    previous = os.urandom(32)
    settings = sqlite_settings(
        tmp_path,
        byok_encryption_key=raw.hex(),
        byok_encryption_key_previous=base64.b64encode(previous).decode(),
    )
    for shown in (
        repr(settings),
        str(settings),
        settings.model_dump_json(),
        repr(settings.model_dump()),
        repr(settings.byok_encryption_key),
    ):
        assert_no_key_material(shown, raw, previous)
    assert load_vault(settings).current_kid == Vault(raw).current_kid


# --- load_vault: where the master key comes from ---------------------------------------------


def sqlite_settings(tmp_path: Path, **overrides: Any) -> Settings:
    # The shared test settings carry a fixed master key; these tests choose their own.
    overrides.setdefault("byok_encryption_key", None)
    return make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'launchgate.db'}", tmp_path / "data", **overrides
    )


def refused(settings: Settings) -> str:
    """The one-line start-up error, checked for its shape."""
    with pytest.raises(MasterKeyError) as caught:
        load_vault(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert MAKE_ONE in message
    assert isinstance(caught.value, SettingsError)  # the CLI prints it as a configuration error
    return message


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("Kq7wZ", "too short"),
        ("0123456789abcdef", "16 hex characters, not 64"),
        ("not a key at all, is it? no! it is not a key at all, is it?", "neither"),
        ("é" * 64, "neither"),
        ("00" * 31, "62 hex characters, not 64"),
        ("00" * 33, "66 hex characters, not 64"),
        ("ab" * 31 + "zz", "decodes to"),
        (base64.b64encode(b"k" * 31).decode(), "decodes to 31 bytes"),
        (base64.b64encode(b"k" * 33).decode(), "decodes to 33 bytes"),
        (base64.urlsafe_b64encode(b"\xfb" * 48).decode(), "decodes to 48 bytes"),
    ],
)
def test_a_malformed_key_stops_start_up_in_one_line(
    tmp_path: Path, value: str, problem: str
) -> None:
    message = refused(sqlite_settings(tmp_path, byok_encryption_key=value))
    assert message.startswith("BYOK_ENCRYPTION_KEY ")
    assert problem in message
    assert value not in message


@pytest.mark.parametrize(
    "spell",
    [
        lambda raw: raw.hex(),
        lambda raw: raw.hex().upper(),
        lambda raw: base64.b64encode(raw).decode(),
        lambda raw: base64.b64encode(raw).decode().rstrip("="),
        lambda raw: base64.urlsafe_b64encode(raw).decode(),
        lambda raw: base64.urlsafe_b64encode(raw).decode().rstrip("="),
        lambda raw: f"  {raw.hex()}\n",
    ],
)
def test_hex_and_base64_are_accepted(tmp_path: Path, spell: Any) -> None:
    raw = bytes([0xFB, 0xFF, 0xFE]) + os.urandom(29)  # "+/" in standard base64, "-_" in urlsafe
    vault = load_vault(sqlite_settings(tmp_path, byok_encryption_key=spell(raw)))
    assert vault.current_kid == Vault(raw).current_kid
    assert not (tmp_path / "data" / "byok.key").exists()


@pytest.mark.parametrize("name", ["BYOK_ENCRYPTION_KEY", "LAUNCHGATE_BYOK_ENCRYPTION_KEY"])
def test_the_key_comes_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, name: str
) -> None:
    monkeypatch.setenv(name, raw.hex())
    assert load_vault(sqlite_settings(tmp_path)).current_kid == Vault(raw).current_kid


def test_previous_keys_come_from_the_environment_and_only_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    first, second = os.urandom(32), os.urandom(32)
    monkeypatch.setenv("BYOK_ENCRYPTION_KEY", raw.hex())
    monkeypatch.setenv(
        "BYOK_ENCRYPTION_KEY_PREVIOUS", f" {first.hex()} , {base64.b64encode(second).decode()},"
    )
    vault = load_vault(sqlite_settings(tmp_path))
    for old in (first, second):
        sealed = Vault(old).seal(PLAINTEXT, **BINDING)
        assert vault.open(sealed, **BINDING) == PLAINTEXT
        assert not vault.is_current(sealed)
    assert vault.is_current(vault.seal(PLAINTEXT, **BINDING))
    assert vault.current_kid == Vault(raw).current_kid


def test_a_malformed_previous_key_names_its_entry(tmp_path: Path, raw: bytes) -> None:
    message = refused(
        sqlite_settings(
            tmp_path,
            byok_encryption_key=raw.hex(),
            byok_encryption_key_previous=f"{raw.hex()},nope",
        )
    )
    assert message.startswith("BYOK_ENCRYPTION_KEY_PREVIOUS (entry 2) ")
    assert_no_key_material(message, raw)


def test_production_refuses_to_start_without_the_variable(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, env="production")
    message = refused(settings)
    assert "BYOK_ENCRYPTION_KEY is not set" in message and "production" in message
    assert not (tmp_path / "data" / "byok.key").exists()
    # Not even a key file left by an earlier development start will do.
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "byok.key").write_text(os.urandom(32).hex())
    refused(settings)


def test_production_with_the_variable_starts(tmp_path: Path, raw: bytes) -> None:
    settings = sqlite_settings(tmp_path, env="production", byok_encryption_key=raw.hex())
    assert load_vault(settings).current_kid == Vault(raw).current_kid


def test_a_shared_database_needs_the_variable(tmp_path: Path) -> None:
    settings = make_settings(
        "postgresql://lg@db.invalid/lg", tmp_path / "data", byok_encryption_key=None
    )
    assert not settings.embedded
    assert "BYOK_ENCRYPTION_KEY is not set" in refused(settings)
    assert not (tmp_path / "data" / "byok.key").exists()


class Recorder:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


def test_embedded_mode_generates_a_private_key_file_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    monkeypatch.setattr(vault_module, "log", recorder)
    settings = sqlite_settings(tmp_path)
    first = load_vault(settings)
    path = tmp_path / "data" / "byok.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", path.read_text())
    assert first.current_kid == Vault(bytes.fromhex(path.read_text().strip())).current_kid
    assert len(recorder.warnings) == 1
    event, fields = recorder.warnings[0]
    assert event == "byok.master_key_generated" and fields["path"] == str(path.resolve())
    assert "BYOK_ENCRYPTION_KEY" in fields["detail"]
    assert_no_key_material(repr(recorder.warnings), bytes.fromhex(path.read_text().strip()))
    # Later starts read the same key, silently, and open what the first sealed.
    sealed = first.seal(PLAINTEXT, **BINDING)
    again = load_vault(sqlite_settings(tmp_path))
    assert again.current_kid == first.current_kid
    assert again.open(sealed, **BINDING) == PLAINTEXT
    assert len(recorder.warnings) == 1


def test_the_variable_wins_over_the_key_file(tmp_path: Path, raw: bytes) -> None:
    load_vault(sqlite_settings(tmp_path))
    vault = load_vault(sqlite_settings(tmp_path, byok_encryption_key=raw.hex()))
    assert vault.current_kid == Vault(raw).current_kid


def test_an_empty_variable_counts_as_unset(tmp_path: Path) -> None:
    load_vault(sqlite_settings(tmp_path, byok_encryption_key="  "))
    assert (tmp_path / "data" / "byok.key").exists()


def test_a_damaged_key_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "byok.key").write_text("abc123\n")
    message = refused(sqlite_settings(tmp_path))
    assert str(tmp_path / "data" / "byok.key") in message and "abc123" not in message


# ---------------------------------------------------------------------------------------------
# Master keys that are plainly not random (kit/entropy.py): refused outside env "test"

# A seed hashed: always 32 pseudo-random bytes, as a generated key is. (Hypothesis' own
# binary() would also draw 32 zero bytes, which is exactly what must be refused.)
random_keys = st.binary(max_size=64).map(lambda seed: hashlib.sha256(seed).digest())
# A pattern of 1-16 bytes repeated to 32: every one is refused, whatever the pattern.
repeated_keys = st.binary(min_size=1, max_size=16).map(lambda p: (p * 32)[:32])
# 32 bytes drawn from at most 7 values.
few_valued_keys = (
    st.lists(st.binary(min_size=1, max_size=1), min_size=1, max_size=7)
    .flatmap(lambda alphabet: st.lists(st.sampled_from(alphabet), min_size=32, max_size=32))
    .map(b"".join)
)


@settings(max_examples=200, deadline=None)
@given(key=random_keys, env=st.sampled_from(["development", "production"]))
def test_random_master_keys_are_accepted(
    tmp_path_factory: pytest.TempPathFactory, key: bytes, env: str
) -> None:
    path = tmp_path_factory.mktemp("random")
    for spelling in (key.hex(), base64.b64encode(key).decode()):
        settings_ = sqlite_settings(path, env=env, byok_encryption_key=spelling)
        assert load_vault(settings_).current_kid == Vault(key).current_kid


@settings(max_examples=200, deadline=None)
@given(
    key=st.one_of(repeated_keys, few_valued_keys),
    env=st.sampled_from(["development", "production"]),
)
def test_low_entropy_master_keys_are_refused(
    tmp_path_factory: pytest.TempPathFactory, key: bytes, env: str
) -> None:
    settings_ = sqlite_settings(
        tmp_path_factory.mktemp("weak"), env=env, byok_encryption_key=key.hex()
    )
    message = refused(settings_)
    assert message.startswith("BYOK_ENCRYPTION_KEY ") and "not a random key" in message
    assert_no_key_material(message, key)


def test_the_all_zero_key_is_refused_in_production(tmp_path: Path) -> None:
    message = refused(sqlite_settings(tmp_path, env="production", byok_encryption_key="00" * 32))
    assert "uses only 1 distinct byte" in message


def test_a_weak_key_file_is_refused_too(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "byok.key").write_text("ab" * 32)
    assert "byok.key" in refused(sqlite_settings(tmp_path, env="development"))


def test_env_test_keeps_the_suites_fixed_key(tmp_path: Path) -> None:
    """LAUNCHGATE_ENV=test is the test suite's: its fixed "0f" * 32 keeps working there."""
    settings_ = sqlite_settings(tmp_path, env="test", byok_encryption_key="0f" * 32)
    assert load_vault(settings_).current_kid == Vault(bytes([0x0F]) * 32).current_kid


def test_a_weak_previous_key_still_opens_so_it_can_be_rotated_away(
    tmp_path: Path, raw: bytes
) -> None:
    weak = bytes(32)
    old = Vault(weak, []).seal(PLAINTEXT, **BINDING)
    settings_ = sqlite_settings(
        tmp_path,
        env="production",
        byok_encryption_key=raw.hex(),
        byok_encryption_key_previous=weak.hex(),
    )
    assert load_vault(settings_).open(old, **BINDING) == PLAINTEXT
