"""Zeek and Suricata records for the demo city, collected as rows and rendered in the formats the
sensors write (Zeek ASCII TSV with its header, Suricata EVE JSON lines), so that the real readers
parse them exactly as `civicshield ingest` would."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from civicshield.telemetry._demo_city import epoch, uid

__all__ = ["ZEEK_FIELDS", "Logs"]

_ADDR = [("id.orig_h", "addr"), ("id.orig_p", "port"), ("id.resp_h", "addr"), ("id.resp_p", "port")]
_C = [("ts", "time"), ("uid", "string"), *_ADDR]
# Field names and types as Zeek 6 writes them (base/protocols/*/main.zeek).
ZEEK_FIELDS: dict[str, list[tuple[str, str]]] = {
    "conn": [*_C, ("proto", "enum"), ("service", "string"), ("duration", "interval"),
             ("orig_bytes", "count"), ("resp_bytes", "count"), ("conn_state", "string"),
             ("local_orig", "bool"), ("local_resp", "bool"), ("missed_bytes", "count"),
             ("history", "string"), ("orig_pkts", "count"), ("orig_ip_bytes", "count"),
             ("resp_pkts", "count"), ("resp_ip_bytes", "count"),
             ("tunnel_parents", "set[string]")],
    "dns": [*_C, ("proto", "enum"), ("trans_id", "count"), ("rtt", "interval"),
            ("query", "string"), ("qclass", "count"), ("qclass_name", "string"),
            ("qtype", "count"), ("qtype_name", "string"), ("rcode", "count"),
            ("rcode_name", "string"), ("AA", "bool"), ("TC", "bool"), ("RD", "bool"),
            ("RA", "bool"), ("Z", "count"), ("answers", "vector[string]"),
            ("TTLs", "vector[interval]"), ("rejected", "bool")],
    "http": [*_C, ("trans_depth", "count"), ("method", "string"), ("host", "string"),
             ("uri", "string"), ("referrer", "string"), ("version", "string"),
             ("user_agent", "string"), ("request_body_len", "count"),
             ("response_body_len", "count"), ("status_code", "count"),
             ("status_msg", "string"), ("tags", "set[enum]"),
             ("resp_mime_types", "vector[string]")],
    "modbus": [*_C, ("unit", "count"), ("func", "string"), ("pdu_type", "string"),
               ("exception", "string")],
}  # fmt: skip
_STATES = {"SF": "ShADadFf", "S0": "S", "REJ": "Sr", "RSTO": "ShADaR", "udp": "Dd"}


def _eve_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+0000")


@dataclass
class Logs:
    """Rows per Zeek log (field → text) and EVE objects; rendered by `zeek_lines`/`eve_lines`."""

    rng: random.Random
    zeek: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    eve: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)

    # -- Zeek ---------------------------------------------------------------------------------
    def conn(
        self,
        at: datetime,
        orig: str,
        resp: str,
        port: int,
        *,
        proto: str = "tcp",
        service: str = "",
        state: str = "SF",
        duration: float = 0.0,
        sent: int = 0,
        received: int = 0,
        local_resp: bool = True,
    ) -> str:
        """One conn.log row; returns its uid (for dns/http/modbus rows of the same flow)."""
        rng = self.rng
        cid = uid(rng)
        src_port = rng.randrange(1024, 65535)
        history = _STATES["udp" if proto == "udp" else state]
        opk, rpk = max(1, sent // 500 + 1), (0 if state in ("S0", "REJ") else received // 900 + 1)
        self._add("conn", at, cid, orig, src_port, resp, port, {
            "proto": proto, "service": service or "-", "conn_state": state,
            "duration": f"{duration:.6f}" if state not in ("S0", "REJ") else "-",
            "orig_bytes": str(sent), "resp_bytes": str(received),
            "local_orig": "T" if orig.startswith(("10.", "172.16.")) else "F",
            "local_resp": "T" if local_resp else "F", "missed_bytes": "0", "history": history,
            "orig_pkts": str(opk), "orig_ip_bytes": str(sent + 40 * opk),
            "resp_pkts": str(rpk), "resp_ip_bytes": str(received + 40 * rpk),
            "tunnel_parents": "-",
        })  # fmt: skip
        return cid

    def dns(
        self, at: datetime, cid: str, orig: str, resolver: str, query: str, answer: str
    ) -> None:
        found = bool(answer)
        self._add("dns", at, cid, orig, self.rng.randrange(1024, 65535), resolver, 53, {
            "proto": "udp", "trans_id": str(self.rng.randrange(65536)),
            "rtt": f"{self.rng.uniform(0.0004, 0.04):.6f}", "query": query, "qclass": "1",
            "qclass_name": "C_INTERNET", "qtype": "1", "qtype_name": "A",
            "rcode": "0" if found else "3", "rcode_name": "NOERROR" if found else "NXDOMAIN",
            "AA": "F", "TC": "F", "RD": "T", "RA": "T", "Z": "0",
            "answers": answer or "-", "TTLs": "300.000000" if found else "-", "rejected": "F",
        })  # fmt: skip

    def http(
        self, at: datetime, cid: str, orig: str, resp: str, host: str, uri: str, agent: str,
        *, status: int = 200, size: int = 0, mime: str = "text/html",
    ) -> None:  # fmt: skip
        self._add("http", at, cid, orig, self.rng.randrange(1024, 65535), resp, 80, {
            "trans_depth": "1", "method": "GET", "host": host, "uri": uri, "referrer": "-",
            "version": "1.1", "user_agent": agent, "request_body_len": "0",
            "response_body_len": str(size), "status_code": str(status),
            "status_msg": "OK" if status == 200 else "Not Found", "tags": "(empty)",
            "resp_mime_types": mime if size else "-",
        })  # fmt: skip

    def modbus(self, at: datetime, cid: str, orig: str, resp: str, func: str) -> None:
        port = self.rng.randrange(1024, 65535)
        fields = {"unit": "1", "func": func, "pdu_type": "REQUEST", "exception": "-"}
        self._add("modbus", at, cid, orig, port, resp, 502, fields)

    def _add(
        self, log: str, at: datetime, cid: str, orig: str, oport: int, resp: str, rport: int,
        rest: dict[str, str],
    ) -> None:  # fmt: skip
        row = {"ts": epoch(at), "uid": cid, "id.orig_h": orig, "id.orig_p": str(oport)}
        row |= {"id.resp_h": resp, "id.resp_p": str(rport), **rest}
        self.zeek.setdefault(log, []).append(row)

    def zeek_lines(self, log: str, opened: datetime) -> list[tuple[int, bytes]]:
        """The log as Zeek's ASCII writer would write it: header, rows by time, `#close`."""
        fields = ZEEK_FIELDS[log]
        stamp = opened.strftime("%Y-%m-%d-%H-%M-%S")
        header = [
            "#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)",
            "#unset_field\t-", f"#path\t{log}", f"#open\t{stamp}",
            "#fields\t" + "\t".join(n for n, _ in fields),
            "#types\t" + "\t".join(t for _, t in fields),
        ]  # fmt: skip
        rows = sorted(self.zeek.get(log, []), key=lambda r: float(r["ts"]))
        body = ["\t".join(r.get(n, "-") for n, _ in fields) for r in rows]
        lines = [*header, *body, f"#close\t{stamp}"]
        return [(n, text.encode()) for n, text in enumerate(lines, start=1)]

    # -- Suricata -----------------------------------------------------------------------------
    def flow(self, at: datetime, src: str, dst: str, port: int, proto: str, app: str) -> int:
        """An EVE flow record; returns its flow_id (for alerts on the same flow)."""
        rng = self.rng
        flow_id = rng.randrange(10**14, 10**16)
        age = rng.randrange(0, 120)
        sent, received = rng.randrange(200, 20_000), rng.randrange(200, 200_000)
        self._eve(at + timedelta(seconds=age), "flow", flow_id, src, dst, port, proto, {
            "app_proto": app or "failed",
            "flow": {"pkts_toserver": sent // 500 + 1, "pkts_toclient": received // 900 + 1,
                     "bytes_toserver": sent, "bytes_toclient": received,
                     "start": _eve_time(at), "end": _eve_time(at + timedelta(seconds=age)),
                     "age": age, "state": "closed", "reason": "timeout", "alerted": False},
        })  # fmt: skip
        return flow_id

    def alert(
        self, at: datetime, src: str, dst: str, port: int, sid: int, signature: str,
        category: str, severity: int, *, proto: str = "TCP", extra: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        body = {
            "alert": {
                "action": "allowed",
                "gid": 1,
                "signature_id": sid,
                "rev": 1,
                "signature": signature,
                "category": category,
                "severity": severity,
            }
        }
        flow_id = self.rng.randrange(10**14, 10**16)
        self._eve(at, "alert", flow_id, src, dst, port, proto, {**body, **(extra or {})})

    def modbus_event(self, at: datetime, src: str, dst: str, raw: int, code: str) -> None:
        req = {"transaction_id": self.rng.randrange(1, 9999), "protocol_id": 0, "unit_id": 1,
               "function_raw": raw, "function_code": code}  # fmt: skip
        flow_id = self.rng.randrange(10**14, 10**16)
        self._eve(
            at, "modbus", flow_id, src, dst, 502, "TCP", {"modbus": {"id": 1, "request": req}}
        )

    def _eve(
        self, at: datetime, kind: str, flow_id: int, src: str, dst: str, port: int, proto: str,
        rest: dict[str, Any],
    ) -> None:  # fmt: skip
        event = {"timestamp": _eve_time(at), "flow_id": flow_id, "in_iface": "ens1f0",
                 "event_type": kind, "src_ip": src, "src_port": self.rng.randrange(1024, 65535),
                 "dest_ip": dst, "dest_port": port, "proto": proto, **rest}  # fmt: skip
        self.eve.append((at, event))

    def eve_lines(self) -> list[tuple[int, bytes]]:
        ordered = sorted(self.eve, key=lambda item: item[0])
        return [(n, orjson.dumps(e)) for n, (_, e) in enumerate(ordered, start=1)]
