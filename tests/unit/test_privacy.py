"""Personal data is masked in every repr and error message."""

from __future__ import annotations

import pytest
from tests.unit.builders import borrower, loan

from loancollect import ContactKind, ContactPoint, ValidationError
from loancollect.domain.privacy import (
    mask_email,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_text,
)

PHONE = "+86 138 0013 8000"
EMAIL = "zhang.wei@example.com"
NATIONAL_ID = "110101199003071234"
NAME = "张伟"


@pytest.mark.parametrize(
    ("mask", "value", "masked"),
    [
        (mask_phone, PHONE, "+86*********00"),
        (mask_phone, "13800138000", "138******00"),
        (mask_phone, "12345", "*****"),
        (mask_email, EMAIL, "z***@example.com"),
        (mask_email, "@example.com", "***@example.com"),
        (mask_email, "no-at-sign", "no********"),
        (mask_id_number, NATIONAL_ID, "**************1234"),
        (mask_id_number, "1234", "****"),
        (mask_name, NAME, "张*"),
        (mask_name, "Li", "L*"),
        (mask_name, "", ""),
        (mask_text, "北京市朝阳区建国路88号", "北京********"),
        (mask_text, "ab", "**"),
    ],
)
def test_each_kind_of_personal_value_has_its_mask(mask: object, value: str, masked: str) -> None:
    assert mask(value) == masked  # type: ignore[operator]


@pytest.mark.parametrize("secret", [PHONE, "13800138000", EMAIL, "zhang.wei", NATIONAL_ID, NAME])
def test_borrower_repr_hides_contact_points_ids_and_name(secret: str) -> None:
    text = repr(borrower())
    assert secret not in text
    assert "+86*********00" in text
    assert "z***@example.com" in text
    assert "**************1234" in text


def test_loan_repr_shows_the_borrower_id_only() -> None:
    text = repr(loan())
    assert "B-1" in text
    assert NAME not in text
    assert PHONE not in text


def test_contact_point_repr_is_masked() -> None:
    point = ContactPoint(ContactKind.ADDRESS, "北京市朝阳区建国路88号", label="home")
    assert repr(point) == "ContactPoint(address, '北京********', label='home')"


@pytest.mark.parametrize(
    ("kind", "value", "secret"),
    [
        (ContactKind.EMAIL, "zhangwei.example.com", "zhangwei"),
        (ContactKind.PHONE, "call 1234", "call 1234"),
    ],
)
def test_errors_about_contact_points_carry_the_masked_value(
    kind: ContactKind, value: str, secret: str
) -> None:
    with pytest.raises(ValidationError) as info:
        ContactPoint(kind, value)
    assert secret not in str(info.value)
    assert secret not in repr(info.value.value)
