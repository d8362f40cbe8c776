"""The detection rule catalogue as a platform feature: the `rules.catalog` background job that
builds it (`civicshield.detect.catalog` does the work; `detect` stays free of the database, so
the job lives here, above it). Web pages and API routes read the catalogue straight from
`civicshield.detect.catalog`."""

from civicshield.rules.jobs import CATALOG_JOB, JOBS, active_catalog_job, queue_catalog_job

__all__ = ["CATALOG_JOB", "JOBS", "active_catalog_job", "queue_catalog_job"]
