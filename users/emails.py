"""One address, one account: the normalisation every email goes through.

Register, login, the manager, the model, the admin forms and the data migration all call
`normalize_email`, so `userX@example.com` written with fullwidth letters, a decomposed `é`, a
ligature or different case is one address, and a look-alike padded with an invisible
character is refused rather than stored as somebody else.

- Unicode NFKC (compatibility forms: fullwidth letters, ligatures, composed accents), then
  lower case, as before (`A@x.io` and `a@x.io` were already one account).
- The domain through IDNA 2008 with UTS #46 mapping (the `idna` package), stored as its
  Unicode form: `BÜCHER.de`, `bücher.de` and `xn--bcher-kva.de` are one domain. Python's own
  `encodings.idna` is IDNA 2003, which maps `faß.de` onto the different domain `fass.de` and
  knows nothing of Unicode since 3.2.
- Invisible, control and bidirectional formatting characters are refused: they make an
  address look like another one and have no place in a real one.
"""

import unicodedata

import idna
from django.core.exceptions import ValidationError

# Unicode's Default_Ignorable_Code_Point ranges (DerivedCoreProperties.txt): characters that
# render as nothing. Most are format characters (category Cf, refused anyway); these are the
# ones that are not (Hangul fillers, variation selectors, the combining grapheme joiner...).
_IGNORABLE = (
    (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180F), (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164),
    (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFF8), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
# Control, format, surrogate, private use, unassigned; line, paragraph and space separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"}

INVISIBLE_MESSAGE = (
    "Email addresses cannot contain invisible, control or bidirectional formatting characters."
)
DOMAIN_MESSAGE = "The domain of this email address is not a valid domain name."


class InvalidEmail(ValidationError):
    """An address that cannot be normalised; a ValidationError so that forms and the API's
    exception handler show it as the client's mistake."""


def _is_invisible(char: str) -> bool:
    code = ord(char)
    return unicodedata.category(char) in _REFUSED_CATEGORIES or any(
        low <= code <= high for low, high in _IGNORABLE
    )


def _domain(domain: str) -> str:
    if domain.startswith("["):  # an address literal, [192.0.2.1]: no name to map
        return domain.lower()
    try:
        return idna.decode(idna.encode(domain, uts46=True))
    except (idna.IDNAError, UnicodeError):
        raise InvalidEmail(DOMAIN_MESSAGE, code="invalid_domain") from None


def normalize_email(email: str) -> str:
    """The one stored form of an address. Raises InvalidEmail for invisible characters and
    for a domain IDNA refuses. Text without an `@` is returned lower-cased, so that a login
    with it finds no account; whether it is an address at all is the validators' business."""
    text = unicodedata.normalize("NFKC", email.strip())
    if any(_is_invisible(char) for char in text):
        raise InvalidEmail(INVISIBLE_MESSAGE, code="invisible_characters")
    local, at, domain = text.rpartition("@")
    if not at:
        return text.lower()
    # Lower-casing can leave a string that is not NFKC any more (U+0130 becomes i + U+0307).
    local = unicodedata.normalize("NFKC", local.lower())
    return f"{local}@{_domain(domain)}"
