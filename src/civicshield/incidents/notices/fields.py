"""The register's fields: the union of Québec r. 3.1 s. 7, GDPR art. 33(5), Mexico's breach log
(bitácora, LGPDPPSO 2017 art. 39) and PIPEDA's record (SOR/2018-64 s. 6), with labels in the
three languages (data, like the profiles' labels) and the provisions each one serves."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AUTO_FIELDS", "REGISTER_FIELDS", "RegisterField", "field_label", "register_words"]


@dataclass(frozen=True)
class RegisterField:
    name: str
    en: str
    es: str
    fr: str
    serves: str  # the provisions asking for it
    kind: str = "text"  # text, datetime (ISO 8601), yesno

    def label(self, lang: str) -> str:
        return str(getattr(self, lang.split("-", 1)[0].lower(), self.en))


_QC, _GDPR, _MX, _PIPEDA = "QC r. 3.1 s. 7", "GDPR 33(5)", "MX art. 39", "PIPEDA s. 6"
REGISTER_FIELDS: tuple[RegisterField, ...] = (
    RegisterField(
        "personal_information",
        "Description of the personal information",
        "Descripción de la información personal",
        "Description des renseignements personnels",
        f"{_QC}(1); {_GDPR}; {_MX}",
    ),
    RegisterField(
        "circumstances",
        "Circumstances and cause",
        "Circunstancias y causa",
        "Circonstances et cause",
        f"{_QC}(2); {_GDPR}; {_MX}; {_PIPEDA}",
    ),
    RegisterField(
        "occurred_from",
        "Occurred from",
        "Ocurrió desde",
        "Survenu à partir du",
        f"{_QC}(3); {_MX}",
        "datetime",
    ),
    RegisterField(
        "occurred_to",
        "Occurred until",
        "Ocurrió hasta",
        "Survenu jusqu'au",
        f"{_QC}(3)",
        "datetime",
    ),
    RegisterField(
        "aware_at",
        "Became aware at",
        "Conocimiento el",
        "Prise de connaissance le",
        f"{_QC}(4); {_PIPEDA}",
        "datetime",
    ),
    RegisterField(
        "persons_affected",
        "Persons affected (approximate)",
        "Personas afectadas (aproximado)",
        "Personnes concernées (approximatif)",
        f"{_QC}(5); {_GDPR}",
    ),
    RegisterField(
        "persons_by_residence",
        "Persons affected by residence",
        "Personas afectadas por residencia",
        "Personnes concernées par résidence",
        f"{_QC}(5)",
    ),
    RegisterField(
        "risk_factors",
        "Risk factors (sensitivity, misuse, consequences, likelihood)",
        "Factores de riesgo (sensibilidad, uso indebido, consecuencias, probabilidad)",
        "Facteurs de risque (sensibilité, mauvais usage, conséquences, probabilité)",
        f"{_QC}(6); {_PIPEDA}",
    ),
    RegisterField(
        "risk_conclusion",
        "Risk conclusion",
        "Conclusión sobre el riesgo",
        "Conclusion sur le risque",
        f"{_QC}(6); {_GDPR}; {_PIPEDA}",
    ),
    RegisterField("risk_reasoning", "Reasoning", "Razonamiento", "Motifs", f"{_QC}(6); {_GDPR}"),
    RegisterField(
        "public_notice",
        "Public notice (yes/no)",
        "Aviso público (sí/no)",
        "Avis public (oui/non)",
        f"{_QC}(7)",
        "yesno",
    ),
    RegisterField(
        "public_notice_reason",
        "Why (public notice)",
        "Motivo (aviso público)",
        "Motif (avis public)",
        f"{_QC}(7)",
    ),
    RegisterField(
        "measures_immediate",
        "Measures taken (immediate)",
        "Medidas tomadas (inmediatas)",
        "Mesures prises (immédiates)",
        f"{_QC}(8); {_GDPR}; {_MX}",
    ),
    RegisterField(
        "measures_definitive",
        "Measures taken (definitive)",
        "Medidas tomadas (definitivas)",
        "Mesures prises (définitives)",
        f"{_QC}(8); {_MX}",
    ),
    RegisterField(
        "contact_person", "Contact person", "Persona de contacto", "Personne-ressource", f"{_GDPR}"
    ),
)

# Filled by CivicShield on every version, never typed by people.
AUTO_FIELDS: tuple[RegisterField, ...] = (
    RegisterField("case_id", "Incident", "Incidente", "Incident", "all"),
    RegisterField("case_title", "Title", "Título", "Titre", "all"),
    RegisterField(
        "notices",
        "Notices sent (recipient, channel, sent at, copy SHA-256)",
        "Avisos enviados (destinatario, canal, fecha, SHA-256 de la copia)",
        "Avis envoyés (destinataire, canal, date, SHA-256 de la copie)",
        f"{_QC}(7); {_PIPEDA}",
    ),
    RegisterField(
        "retention", "Retention", "Conservación", "Conservation", "QC r. 3.1; PIPEDA s. 6"
    ),
)

_WORDS: dict[str, dict[str, str]] = {
    "title": {
        "en": "Register of confidentiality incidents",
        "es": "Registro de incidentes de confidencialidad",
        "fr": "Registre des incidents de confidentialité",
    },
    "period": {"en": "Period", "es": "Periodo", "fr": "Période"},
    "generated": {"en": "Generated at", "es": "Generado el", "fr": "Produit le"},
    "version": {"en": "Version", "es": "Versión", "fr": "Version"},
    "recorded": {"en": "Recorded", "es": "Registrado", "fr": "Inscrit"},
    "retain_until": {"en": "Keep until", "es": "Conservar hasta", "fr": "Conserver jusqu'au"},
    "chain_ok": {
        "en": "Hash chain verified: %(rows)s rows intact.",
        "es": "Cadena de hashes verificada: %(rows)s filas íntegras.",
        "fr": "Chaîne de hachage vérifiée : %(rows)s lignes intactes.",
    },
    "chain_broken": {
        "en": "Hash chain BROKEN at row %(row)s: %(reason)s",
        "es": "Cadena de hashes ROTA en la fila %(row)s: %(reason)s",
        "fr": "Chaîne de hachage ROMPUE à la ligne %(row)s : %(reason)s",
    },
    "any": {"en": "all", "es": "todo", "fr": "tout"},
    "none": {"en": "No entry.", "es": "Sin entradas.", "fr": "Aucune inscription."},
}


def register_words(lang: str) -> dict[str, str]:
    base = lang.split("-", 1)[0].lower()
    return {k: v.get(base, v["en"]) for k, v in _WORDS.items()}


def field_label(name: str, lang: str) -> str:
    for f in (*AUTO_FIELDS, *REGISTER_FIELDS):
        if f.name == name:
            return f.label(lang)
    return name
