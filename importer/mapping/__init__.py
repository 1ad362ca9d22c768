"""Records → API payloads: coercion by schema type, wrappers, nesting and document lines."""

from importer.mapping.coerce import CoerceOptions
from importer.mapping.columns import DOCUMENT_KEY, LINE_PREFIX, valid_columns
from importer.mapping.records import RecordMapper, Work

__all__ = ["CoerceOptions", "RecordMapper", "Work", "valid_columns", "DOCUMENT_KEY", "LINE_PREFIX"]
