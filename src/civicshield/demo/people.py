"""The people of the demo city: one account per role, from a Mexican–Québécois municipality."""

from __future__ import annotations

from dataclasses import dataclass

from civicshield.core import Role, Sector

__all__ = ["DEMO_PEOPLE", "SIEM_TOKEN_NAME", "SIEM_TOKEN_OWNER", "DemoPerson"]

TIJUANA = "America/Tijuana"
MONTREAL = "America/Montreal"
MAIL_DOMAIN = "ciudad-demo.example"


@dataclass(frozen=True)
class DemoPerson:
    username: str
    display_name: str
    role: Role
    language: str
    timezone: str
    sectors: tuple[Sector, ...] = ()
    email: str | None = None


DEMO_PEOPLE: tuple[DemoPerson, ...] = (
    # As `civicshield init` creates it (the demo only adopts the demo password for it).
    DemoPerson("admin", "Administrator", Role.ADMIN, "en", TIJUANA),
    DemoPerson(
        "ana.lopez",
        "Ana López Hernández",
        Role.ANALYST,
        "es-MX",
        TIJUANA,
        email=f"ana.lopez@{MAIL_DOMAIN}",
    ),
    DemoPerson(
        "raul.mendoza",
        "Raúl Mendoza Ibarra",
        Role.RESPONDER,
        "es-MX",
        TIJUANA,
        email=f"raul.mendoza@{MAIL_DOMAIN}",
    ),
    DemoPerson(
        "sophie.tremblay",
        "Sophie Tremblay",
        Role.PRIVACY_OFFICER,
        "fr-CA",
        MONTREAL,
        email=f"sophie.tremblay@{MAIL_DOMAIN}",
    ),
    DemoPerson(
        "agua.operador",
        "Jorge Ramírez (Agua Potable)",
        Role.SECTOR_OPERATOR,
        "es-MX",
        TIJUANA,
        sectors=(Sector.WATER,),
        email=f"agua@{MAIL_DOMAIN}",
    ),
    DemoPerson(
        "transporte.operador",
        "Marie-Ève Gagnon (Transport et énergie)",
        Role.SECTOR_OPERATOR,
        "fr-CA",
        MONTREAL,
        sectors=(Sector.TRANSPORT, Sector.ENERGY),
        email=f"transporte@{MAIL_DOMAIN}",
    ),
    DemoPerson(
        "regidor.vista",
        "Regidora Carmen Villalobos",
        Role.VIEWER,
        "es-MX",
        TIJUANA,
        email=f"regidora.villalobos@{MAIL_DOMAIN}",
    ),
)

SIEM_TOKEN_NAME = "Demo SIEM forwarder"  # noqa: S105 - a name, not a secret
SIEM_TOKEN_OWNER = "ana.lopez"  # noqa: S105 - a username
