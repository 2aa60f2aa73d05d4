from enum import StrEnum

class ArtifactsRetrieveInclude(StrEnum):
    LINEAGE = "lineage"

    def __str__(self) -> str:
        return str(self.value)
