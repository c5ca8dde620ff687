"""National ID numbers: GB 11643 validation, derived birth date and sex, encryption, hashing, masking."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from members import idnumbers

# 520123 (修文县) has existed since 1995: stdnum checks that a region code existed in the birth year.
birth_dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2020, 12, 31))
sequences = st.integers(min_value=0, max_value=999)
regions = st.sampled_from(["520123", "110105"])


@given(regions, birth_dates, sequences)
def test_every_completed_number_is_valid_and_gives_back_its_birth_date_and_sex(region, born, sequence):
    number = idnumbers.with_check_character(f"{region}{born:%Y%m%d}{sequence:03d}")
    assert idnumbers.validate_id_number(number) == number
    assert idnumbers.birth_date_of(number) == born
    assert idnumbers.sex_of(number) == ("M" if sequence % 2 else "F")


@given(regions, birth_dates, sequences, st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_any_one_digit_breaks_the_check_character(region, born, sequence, position, delta):
    number = idnumbers.with_check_character(f"{region}{born:%Y%m%d}{sequence:03d}")
    digit = (int(number[position]) + delta) % 10
    typo = number[:position] + str(digit) + number[position + 1 :]
    with pytest.raises(ValidationError):
        idnumbers.validate_id_number(typo)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("52012320040517", "18"),
        ("5201232004051A1234", "17"),
        ("520123200405171230", "check character"),
        (idnumbers.with_check_character("52012320040230123"), "birth date"),
    ],
)
def test_each_kind_of_mistake_gets_its_own_message(raw, fragment):
    from django.utils import translation

    with translation.override("en"), pytest.raises(ValidationError) as refused:
        idnumbers.validate_id_number(raw if fragment != "check character" else _wrong_check(raw))
    assert fragment in refused.value.messages[0]


def _wrong_check(raw: str) -> str:
    right = idnumbers.with_check_character(raw[:17])
    return right[:17] + ("0" if right[17] != "0" else "1")


def test_lower_case_x_and_spaces_are_accepted():
    number = idnumbers.with_check_character("11010519491231002")
    assert number.endswith("X")
    spaced = f" {number[:6]} {number[6:14]} {number[14:].lower()} "
    assert idnumbers.validate_id_number(spaced) == number


def test_encryption_round_trips_and_hides_the_number():
    number = idnumbers.with_check_character("52012320040517123")
    token = idnumbers.encrypt(number)
    assert number not in token
    assert idnumbers.decrypt(token) == number
    assert idnumbers.encrypt(number) != token  # a fresh IV each time: equal numbers do not look equal


def test_rotation_reencrypts_under_the_new_key(settings):
    from cryptography.fernet import Fernet

    number = idnumbers.with_check_character("52012320040517123")
    old_token = idnumbers.encrypt(number)
    settings.ID_NUMBER_KEYS = [Fernet.generate_key().decode(), *settings.ID_NUMBER_KEYS]
    idnumbers.forget_keys()
    try:
        new_token = idnumbers.rotate(old_token)
        assert idnumbers.decrypt(new_token) == number
        settings.ID_NUMBER_KEYS = settings.ID_NUMBER_KEYS[:1]  # the old key retired
        idnumbers.forget_keys()
        assert idnumbers.decrypt(new_token) == number
    finally:
        idnumbers.forget_keys()


def test_the_lookup_hash_is_keyed_and_ignores_formatting(settings):
    number = idnumbers.with_check_character("52012320040517123")
    first = idnumbers.lookup_hash(number)
    assert first == idnumbers.lookup_hash(f" {number.lower()} ")
    assert number not in first
    settings.ID_NUMBER_HASH_KEY = "another-key"
    assert idnumbers.lookup_hash(number) != first


def test_masking_keeps_three_and_four():
    assert idnumbers.mask("52012320040517123X") == "520***********123X"


def test_tomorrow_is_not_a_birth_date():
    tomorrow = date.today() + timedelta(days=1)
    number = idnumbers.with_check_character(f"520123{tomorrow:%Y%m%d}123")
    # stdnum accepts any real calendar date; the member rules refuse a future birth (test_member_rules).
    assert idnumbers.birth_date_of(number) == tomorrow


def test_the_rotation_command_moves_every_record_to_the_new_key(tree, settings):
    from cryptography.fernet import Fernet
    from django.core.management import call_command

    from members.models import Member
    from tests.conftest import make_member

    member = make_member(tree["branch_a1"])
    number = member.id_number
    old_keys = list(settings.ID_NUMBER_KEYS)
    settings.ID_NUMBER_KEYS = [Fernet.generate_key().decode(), *old_keys]
    idnumbers.forget_keys()
    try:
        call_command("rotate_id_keys", "--rehash")
        settings.ID_NUMBER_KEYS = settings.ID_NUMBER_KEYS[:1]  # the old key can now be retired
        idnumbers.forget_keys()
        stored = Member.objects.get(pk=member.pk)
        assert stored.id_number == number
        assert Member.objects.with_id_number(number).get() == stored
    finally:
        settings.ID_NUMBER_KEYS = old_keys
        idnumbers.forget_keys()
