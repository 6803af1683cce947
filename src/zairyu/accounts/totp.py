"""TOTP enrolment helpers: the otpauth URI and its QR code as an inline SVG image."""

from __future__ import annotations

import base64
import io

import pyotp
import qrcode
import qrcode.image.svg

from zairyu.accounts.models import User

ISSUER = "Zairyu"


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.auth_id_display, issuer_name=ISSUER)


def provisioning_qr_svg_data_uri(uri: str) -> str:
    """A data: URI (allowed by our CSP for images) so no third party ever sees the secret."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()
