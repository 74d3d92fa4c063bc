"""The API's OpenAPI 3.1 document, as Python data (``openapi.document()``)."""
