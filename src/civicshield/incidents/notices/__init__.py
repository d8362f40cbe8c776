"""Legal notices per regime (drafts with the required fields, sent by e-mail or recorded as
sent by another channel, with the exact copy kept) and the confidentiality-incident register
(append-only versions in one hash chain, exportable as CSV and PDF)."""

from civicshield.incidents.notices.drafts import (
    create_notice,
    get_notice,
    list_notices,
    notice_choices,
    notice_obligation,
    offered_profiles,
    update_notice,
)
from civicshield.incidents.notices.export import (
    neutralise,
    register_csv,
    register_html,
    register_pdf,
)
from civicshield.incidents.notices.fields import (
    AUTO_FIELDS,
    REGISTER_FIELDS,
    RegisterField,
    field_label,
    register_words,
)
from civicshield.incidents.notices.register import (
    GENESIS,
    entry_hash,
    record_entry,
    register_prefill,
)
from civicshield.incidents.notices.register_read import (
    entry_versions,
    list_register,
    verify_register,
)
from civicshield.incidents.notices.schemas import (
    CHANNELS,
    LANGUAGES,
    ChainCheck,
    Channel,
    NoticeChoice,
    NoticeCreate,
    NoticeFieldRead,
    NoticeRead,
    NoticeSend,
    NoticeUpdate,
    RegisterEntryRead,
    RegisterRecord,
)
from civicshield.incidents.notices.send import missing_fields, render_copy, send_notice, subject_of

__all__ = [
    "AUTO_FIELDS",
    "CHANNELS",
    "GENESIS",
    "LANGUAGES",
    "REGISTER_FIELDS",
    "ChainCheck",
    "Channel",
    "NoticeChoice",
    "NoticeCreate",
    "NoticeFieldRead",
    "NoticeRead",
    "NoticeSend",
    "NoticeUpdate",
    "RegisterEntryRead",
    "RegisterField",
    "RegisterRecord",
    "create_notice",
    "entry_hash",
    "entry_versions",
    "field_label",
    "get_notice",
    "list_notices",
    "list_register",
    "missing_fields",
    "neutralise",
    "notice_choices",
    "notice_obligation",
    "offered_profiles",
    "record_entry",
    "register_csv",
    "register_html",
    "register_pdf",
    "register_prefill",
    "register_words",
    "render_copy",
    "send_notice",
    "subject_of",
    "update_notice",
    "verify_register",
]
