"""The demo city, "Ciudad Demo" (`CIVICSHIELD_CITY_NAME`): sample data to try CivicShield.

`load_demo(runtime)` (what `civicshield demo` runs) creates, idempotently:

- one account per role, people of a Mexican–Québécois municipality, each with a language and
  time zone: `admin` (administrator), `ana.lopez` (analyst), `raul.mendoza` (responder),
  `sophie.tremblay` (privacy officer, fr-CA, America/Montreal), `agua.operador` (sector
  operator: water), `transporte.operador` (sector operator: transport and energy) and
  `regidor.vista` (viewer);
- one shared random password for all of them, generated on the first load and kept with the
  raw demo API token in `<data_dir>/demo-credentials.txt` (mode 0600). When that file is new
  and a demo account already exists (e.g. `admin`, made by `civicshield init`), the account's
  password is reset to the demo password, which the audit log records;
- the API token "Demo SIEM forwarder" of `ana.lopez` (scope `dashboard:view`);
- whatever plugins add through the `civicshield_load_demo(session, clock)` hook (each later
  capability brings its own demo data; hook implementations must be idempotent too);
- one queued `audit.verify` job, so the jobs page has history once a worker runs.

Running it again changes nothing and writes no audit entry; `DemoResult` tells what was
created and what was already present.
"""

from civicshield.demo.credentials import CREDENTIALS_FILE, read_credentials
from civicshield.demo.loader import DEMO_ACTOR, DemoResult, load_demo
from civicshield.demo.people import DEMO_PEOPLE, DemoPerson

__all__ = [
    "CREDENTIALS_FILE",
    "DEMO_ACTOR",
    "DEMO_PEOPLE",
    "DemoPerson",
    "DemoResult",
    "load_demo",
    "read_credentials",
]
