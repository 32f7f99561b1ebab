"""Expression-based immune profiling and immunotherapy-response scoring from bulk RNA-seq.

A genes × samples matrix (TSV/CSV(.gz), AnnData ``.h5ad`` or a DataFrame; counts, TPM or log2
values; HGNC symbols, Ensembl or Entrez IDs) becomes per-sample scores: cytolytic activity
(CYT), the IFN-γ 6-gene signature (IFNG6), the 18-gene T-cell-inflamed GEP (GEP18), IMPRES, the
immunophenoscore (IPS), the immunogram axes of Karasaki 2017, MCP-counter populations, cell
fractions by the quanTIseq method with the TIL10 reference, and ``icb_response``, a transparent
composite of IMPRES and IPS with a per-sample explanation. :func:`ssgsea` scores any gene sets by
single-sample GSEA (the enrichment score of gseapy/GSVA, computed in closed form).

Examples
--------
>>> from immunoprecise.profile.expression import read_expression, score_expression
>>> callable(read_expression) and callable(score_expression)
True
"""

from immunoprecise.profile.expression.deconvolution import CellReference, deconvolve, mcp_counter
from immunoprecise.profile.expression.genes import GeneMapping, GeneTable
from immunoprecise.profile.expression.matrix import ExpressionMatrix, detect_units, read_expression
from immunoprecise.profile.expression.response import explain_icb_response, icb_response
from immunoprecise.profile.expression.score import SCORE_COLUMNS, score_expression
from immunoprecise.profile.expression.signatures import Coverage, SignatureScores
from immunoprecise.profile.expression.ssgsea import ssgsea

__all__ = [
    "SCORE_COLUMNS",
    "CellReference",
    "Coverage",
    "ExpressionMatrix",
    "GeneMapping",
    "GeneTable",
    "SignatureScores",
    "deconvolve",
    "detect_units",
    "explain_icb_response",
    "icb_response",
    "mcp_counter",
    "read_expression",
    "score_expression",
    "ssgsea",
]
