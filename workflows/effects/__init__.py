"""Service-task handlers of the business processes, one module per process.

Importing this package registers every handler with ``workflows.handlers``; the engine imports it before it
validates the BPMN files, so a service task naming a missing handler stops start-up.
"""
import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")
