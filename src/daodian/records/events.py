"""What the records domain tells the others (kit.events)."""

from dataclasses import dataclass

from daodian.kit.events import Event
from daodian.records.models import ConsumptionRecord


@dataclass(frozen=True)
class ConsumptionRecorded(Event):
    """A store recorded an offline sale (once per receipt); an identified member earns points on it."""

    record: ConsumptionRecord
