"""Great Expectations checks at every layer of the warehouse (raw, staging, marts, Ed-Fi export).

`validate_layer(layer, settings)` is what the pipeline calls after building each layer; the report's
`errors` stop the build, `warnings` are reported. Suites are generated from the contract (raw, staging),
from the marts' model YAML (marts) and from the Ed-Fi rules (export).

Where it sits: above `extract` and beside `pipeline`. It imports `extract` (the contract) and `pipeline`
(the settings, dbt's target folder), because it checks what the pipeline built; `pipeline.build` calls
`validate_layer` lazily, inside the build, so neither package needs the other at import time.
"""

from .model import ValidationReport
from .runner import LAYERS, ValidationSetupError, validate_layer

__all__ = ["LAYERS", "ValidationReport", "ValidationSetupError", "validate_layer"]
