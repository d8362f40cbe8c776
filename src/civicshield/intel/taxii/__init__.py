"""The TAXII 2.1 server's logic: API roots (one per trust group of cities), collections,
members (peer cities' HTTP Basic accounts) with per-collection grants, object versions with
TAXII's filters and paging, add-objects status resources, and seeding from a medallion data
file. No HTTP here: `civicshield.api.taxii` adapts it."""

from civicshield.intel.taxii.access import TaxiiCaller, authenticate_member, principal_caller
from civicshield.intel.taxii.adding import add_objects, get_status, post_objects
from civicshield.intel.taxii.admin import (
    TAXII_VERSION,
    create_api_root,
    create_collection,
    create_member,
    set_grant,
)
from civicshield.intel.taxii.errors import BadTaxiiRequest, UnprocessableEnvelope
from civicshield.intel.taxii.listing import (
    get_collection,
    list_api_roots,
    list_collections,
    list_members,
)
from civicshield.intel.taxii.query import Query, parse_query
from civicshield.intel.taxii.schemas import (
    ApiRootRead,
    CollectionRead,
    MemberRead,
    ObjectPage,
    SeedReport,
    TaxiiStatusRead,
)
from civicshield.intel.taxii.seed import seed
from civicshield.intel.taxii.server import (
    api_root_information,
    collection_information,
    collections_information,
    delete_object,
    discovery,
    load_discovery,
    objects_page,
    save_discovery,
)

__all__ = [
    "TAXII_VERSION",
    "ApiRootRead",
    "BadTaxiiRequest",
    "CollectionRead",
    "MemberRead",
    "ObjectPage",
    "Query",
    "SeedReport",
    "TaxiiCaller",
    "TaxiiStatusRead",
    "UnprocessableEnvelope",
    "add_objects",
    "api_root_information",
    "authenticate_member",
    "collection_information",
    "collections_information",
    "create_api_root",
    "create_collection",
    "create_member",
    "delete_object",
    "discovery",
    "get_collection",
    "get_status",
    "list_api_roots",
    "list_collections",
    "list_members",
    "load_discovery",
    "objects_page",
    "parse_query",
    "post_objects",
    "principal_caller",
    "save_discovery",
    "seed",
    "set_grant",
]
