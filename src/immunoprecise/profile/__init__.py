"""The immune profile: biomarkers of tumor, microenvironment and host, each with provenance.

Examples
--------
>>> from immunoprecise.profile import ImmuneProfile, profile
>>> ImmuneProfile.__name__
'ImmuneProfile'
"""

from immunoprecise.profile.immune_profile import (
    DiseaseContext,
    ImmuneProfile,
    KnowledgeBaseInfo,
    profile,
)
from immunoprecise.profile.immunoscore import density_reference_from_table
from immunoprecise.profile.table import profile_table
from immunoprecise.profile.values import Citation, ProfileValue

__all__ = [
    "Citation",
    "DiseaseContext",
    "ImmuneProfile",
    "KnowledgeBaseInfo",
    "ProfileValue",
    "density_reference_from_table",
    "profile",
    "profile_table",
]
