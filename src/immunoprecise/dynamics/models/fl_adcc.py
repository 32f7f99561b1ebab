"""Relapsed follicular lymphoma under rituximab: ADCC by NK and Vγ9Vδ2 T cells, and γδ T-cell
activation by zoledronate plus low-dose IL-2.

    ρ(R)  = R/(R + K_R)                                   CD20 opsonisation by rituximab
    kill  = κ·ρ(R)·(N + φ_G·G)·T/(h + T)                  ADCC by NK and CD16⁺ γδ T cells
    dT/dt = a·T·(1 − T/K) − kill − k_R·ρ(R)·T             (direct effect: complement, apoptosis)
    dN/dt = s_N − d_N·N
    dG/dt = s_G − d_G·G + p_G·Z/(Z + K_Z)·I/(I + K_I)·G
    dR/dt = −ln2/t_half_R·R + v_R(t)
    dZ/dt = −k_Z·Z + v_Z(t)
    dI/dt = −μ_I·I + v_I(t)

``T`` lymphoma cells, ``N`` NK cells and ``G`` Vγ9Vδ2 T cells available for ADCC, ``R`` serum
rituximab (mg/L = µg/mL), ``Z`` the aminobisphosphonate stimulus (mg of zoledronate acting in the
body), ``I`` serum IL-2 in MIU/L (10⁶ IU/L; doses are written in IU as usual). The model is built
for a virtual trial of rituximab alone against rituximab plus in-vivo γδ T-cell activation
(zoledronate + low-dose IL-2), e.g.
``rituximab 650 mg d0,7,14,21; zoledronate 4 mg d8 q21d x3; IL2 1e6 IU/d d8-12 q21d x3``
(650 mg ≈ 375 mg/m² for 1.73 m²). It is not a published model: every term is a stated choice
(below), each parameter names its source or says why it was chosen. Every rate is slow
(≤ μ_I = 10/d), so the explicit Dormand–Prince integrator runs it without switching to a stiff
method; IL-2 is held in MIU/L so that the default absolute tolerance (10⁻⁶ state units = 1 IU/L)
ends the costly tracking of each IL-2 washout early.

Behaviour with the defaults (the reason for the two calibrated values, ``h`` and ``p_G``):

* without treatment the tumor grows slowly (doubling ≈ 6 months while T ≪ K);
* ``rituximab 650 mg d0,7,14,21`` shrinks the default patient to about the Lugano partial-response
  threshold (SPD −50 %, i.e. ≈ 35 % of the baseline cell count for one spherical lesion), so that a
  population spread around it responds in the tens of percent, as rituximab alone does in relapsed
  FL (48 % overall, 6 % complete responses: McLaughlin et al. 1998);
* one cycle of zoledronate 4 mg plus IL-2 10⁶ IU/d for 5 days expands the γδ T cells a few-fold,
  neither drug alone does; adding it to rituximab deepens the tumor nadir.

References
----------
- McLaughlin P et al. Rituximab chimeric anti-CD20 monoclonal antibody therapy for relapsed
  indolent lymphoma: half of patients respond to a four-dose treatment program. J Clin Oncol
  1998;16(8):2825–2833. doi:10.1200/JCO.1998.16.8.2825.
- RITUXAN (rituximab) prescribing information, Genentech/Biogen, §12.3: population PK in 298 NHL
  patients, median terminal elimination half-life 22 days (range 6.1–52).
- Regazzi MB et al. Pharmacokinetic behavior of rituximab: a study of different schedules of
  administration for heterogeneous clinical settings. Ther Drug Monit 2005;27(6):785–792 (FL:
  central volume 2.98 L; tabulated in Br J Clin Pharmacol 2019;85(9):2002–2010,
  doi:10.1111/bcp.13991, Table 3).
- Berinstein NL et al. Association of serum rituximab (IDEC-C2B8) concentration and anti-tumor
  response in the treatment of recurrent low-grade or follicular non-Hodgkin's lymphoma. Ann Oncol
  1998;9(9):995–1001.
- Zhang Y et al. In vivo kinetics of human natural killer cells: the effects of ageing and acute
  and chronic viral infection. Immunology 2007;121(2):258–265.
  doi:10.1111/j.1365-2567.2007.02573.x.
- Bhat R, Watzl C. Serial killing of tumor cells by human natural killer cells — enhancement by
  therapeutic antibodies. PLoS One 2007;2(3):e326. doi:10.1371/journal.pone.0000326.
- Angelini DF et al. FcγRIII discriminates between 2 subsets of Vγ9Vδ2 effector cells with
  different responses and activation pathways. Blood 2004;104(6):1801–1807.
- Wilhelm M et al. γδ T cells for immune therapy of patients with lymphoid malignancies. Blood
  2003;102(1):200–206. doi:10.1182/blood-2002-12-3665.
- Dieli F et al. Targeting human γδ T cells with zoledronate and interleukin-2 for immunotherapy of
  hormone-refractory prostate cancer. Cancer Res 2007;67(15):7450–7457.
  doi:10.1158/0008-5472.CAN-07-0199.
- Bennouna J et al. Phase-I study of Innacell γδ™, an autologous cell-therapy product highly
  enriched in γ9δ2 T lymphocytes, in combination with IL-2, in patients with metastatic renal cell
  carcinoma. Cancer Immunol Immunother 2010;59(10):1521–1530. doi:10.1007/s00262-010-0879-0.
- Chen T et al. Pharmacokinetics and pharmacodynamics of zoledronic acid in cancer patients with
  bone metastases. J Clin Pharmacol 2002;42(11):1228–1236. doi:10.1177/009127002762491316.
- de Pillis LG, Gu W, Radunskaya AE. J Theor Biol 2006;238(4):841–862.
  doi:10.1016/j.jtbi.2005.06.037 (IL-2 elimination, blood volume).
- Del Monte U. Does the cell number 10^9 still really fit one gram of tumor tissue? Cell Cycle
  2009;8(3):505–506. doi:10.4161/cc.8.3.7608.
- Ardeshna KM et al. Long-term effect of a watch and wait policy versus immediate systemic
  treatment for asymptomatic advanced-stage non-Hodgkin lymphoma. Lancet 2003;362(9383):516–522
  (PMID 12932382).

Examples
--------
>>> import numpy as np
>>> import immunoprecise as ip
>>> tr = ip.simulate("fl_adcc", t_end=112, regimen="rituximab 650 mg d0,7,14,21",
...                  t_eval=np.arange(0, 113, 1.0))
>>> bool(tr.tumor[0, 112] < tr.tumor[0, 0])
True
"""

from __future__ import annotations

import math

import numpy as np

from immunoprecise.dynamics.model import (
    FRACTION,
    HALF_SATURATION,
    Array,
    DosingInput,
    Limits,
    Model,
    Parameter,
    Params,
    State,
)
from immunoprecise.dynamics.models.depillis2006 import BLOOD_VOLUME_L

__all__ = ["MODEL", "RITUXIMAB_VOLUME_L"]

_LN2 = math.log(2.0)

_MCLAUGHLIN = "McLaughlin et al. 1998, J Clin Oncol 16:2825, doi:10.1200/JCO.1998.16.8.2825"
_LABEL = (
    "RITUXAN (rituximab) prescribing information §12.3: median terminal elimination half-life "
    "22 days (range 6.1–52) in 298 NHL patients"
)
_REGAZZI = (
    "Regazzi et al. 2005, Ther Drug Monit 27:785 (FL, central volume 2.98 L; as tabulated in "
    "Br J Clin Pharmacol 2019;85:2002, doi:10.1111/bcp.13991, Table 3)"
)
_BERINSTEIN = "Berinstein et al. 1998, Ann Oncol 9:995"
_ZHANG = "Zhang et al. 2007, Immunology 121:258, doi:10.1111/j.1365-2567.2007.02573.x"
_BHAT = "Bhat & Watzl 2007, PLoS One 2:e326, doi:10.1371/journal.pone.0000326"
_ANGELINI = "Angelini et al. 2004, Blood 104(6):1801–1807"
_WILHELM = "Wilhelm et al. 2003, Blood 102:200, doi:10.1182/blood-2002-12-3665"
_DIELI = "Dieli et al. 2007, Cancer Res 67:7450, doi:10.1158/0008-5472.CAN-07-0199"
_BENNOUNA = "Bennouna et al. 2010, Cancer Immunol Immunother 59:1521, doi:10.1007/s00262-010-0879-0"
_CHEN = "Chen et al. 2002, J Clin Pharmacol 42:1228, doi:10.1177/009127002762491316"
_DEPILLIS = "de Pillis et al. 2006, J Theor Biol 238:841, doi:10.1016/j.jtbi.2005.06.037"
_DELMONTE = "Del Monte 2009, Cell Cycle 8:505, doi:10.4161/cc.8.3.7608"
_ARDESHNA = "Ardeshna et al. 2003, Lancet 362:516 (PMID 12932382)"

RITUXIMAB_VOLUME_L = 3.0
"""Volume (L) a rituximab dose is distributed in: the central volume of a two-compartment
population model in follicular lymphoma, 2.98 L (Regazzi et al. 2005, Ther Drug Monit 27:785), about
the plasma volume of a 70 kg adult. One compartment with the terminal half-life is an
approximation: it ignores the distribution phase and the target-mediated clearance early on."""

_DIVIDES = Limits(low_open=True, why="it divides: 0 is a division by zero")
_DOUBLING_DAYS = 180.0
_NK_PRODUCTION = 15e6 * BLOOD_VOLUME_L  # Zhang 2007: 15 × 10⁶ NK cells per litre of blood per day
_NK_TURNOVER = 0.043  # Zhang 2007: proliferation 4.3 %/day in healthy young adults
_GD_BASELINE = 2.0e8
_GD_DEATH = 0.04


def _rhs(t: Array, y: Array, p: Params, u: Array) -> Array:
    tum, nk, gd, rit, zol, il2 = np.ascontiguousarray(y.T)
    rho = rit / (rit + p["K_R"])
    adcc = p["kappa"] * (nk + p["phi_G"] * gd) / (p["h"] + tum)
    out = np.empty((6, y.shape[0]))
    out[0] = tum * (p["a"] * (1.0 - tum / p["K"]) - rho * (adcc + p["k_R"]))
    out[1] = p["s_N"] - p["d_N"] * nk
    stim = p["p_G"] * zol / (zol + p["K_Z"]) * il2 / (il2 + p["K_I"])
    out[2] = p["s_G"] + gd * (stim - p["d_G"])
    out[3] = -_LN2 / p["t_half_R"] * rit + u[:, 0]
    out[4] = -p["k_Z"] * zol + u[:, 1]
    out[5] = -p["mu_I"] * il2 + u[:, 2]
    return np.ascontiguousarray(out.T)


def _assume(why: str) -> str:
    return f"assumption: {why}"


MODEL = Model(
    id="fl_adcc",
    title="Relapsed follicular lymphoma: rituximab ADCC by NK and γδ T cells, zoledronate + IL-2",
    reference=f"{_MCLAUGHLIN}; {_ZHANG}; {_DIELI} (not a published model; see the module text)",
    states=(
        State("T", "cells", "follicular lymphoma cells"),
        State("N", "cells", "NK cells available for ADCC"),
        State("G", "cells", "Vγ9Vδ2 T cells"),
        State("R", "mg/L", "serum rituximab (µg/mL)"),
        State("Z", "mg", "aminobisphosphonate stimulus (zoledronate acting via monocytes)"),
        State("I", "MIU/L", "serum IL-2 (10⁶ IU/L)"),
    ),
    parameters=(
        Parameter(
            "a",
            _LN2 / _DOUBLING_DAYS,
            "1/d",
            "tumor growth rate (ln2 / volume doubling time of 180 days)",
            _assume(
                "FL is indolent: many patients need no therapy for years under watch and wait "
                f"({_ARDESHNA}); a 6-month doubling is taken for relapsed disease needing therapy"
            ),
            (1e-4, 0.05),
        ),
        Parameter(
            "K",
            1.0e12,
            "cells",
            "tumor carrying capacity (≈ 1 kg of tumor)",
            _assume(f"≈ 1 kg of lymphoma at 10⁹ cells/cm³ ({_DELMONTE})"),
            (1e11, 1e13),
            _DIVIDES,  # a·T·(1 − T/K)
        ),
        Parameter(
            "kappa",
            4.0,
            "1/d",
            "maximal targets killed per effector per day (serial killing)",
            f"{_BHAT}: an IL-2-activated NK cell kills ~4 targets on average; rituximab raises it",
            (0.5, 20.0),
        ),
        Parameter(
            "h",
            6.0e11,
            "cells",
            "tumor cells at which the kill per effector is half its maximum",
            _assume(
                "calibrated so that rituximab alone brings the default patient to about the "
                f"Lugano PR threshold (ORR 48 % in relapsed indolent lymphoma, {_MCLAUGHLIN}); "
                "h > T keeps the ADCC kill nearly first order in T (effectors find few targets)"
            ),
            (1e10, 1e14),
            HALF_SATURATION,  # κ·(N + φ_G·G)·T/(h + T)
        ),
        Parameter(
            "phi_G",
            0.3,
            "1",
            "fraction of Vγ9Vδ2 T cells that are CD16⁺ (ADCC-capable)",
            _assume(
                f"the CD16⁺ effector subset of Vγ9Vδ2 cells kills via FcγRIII ({_ANGELINI}); "
                "its share, variable between donors, is set to 30 %"
            ),
            (0.0, 1.0),
            FRACTION,
        ),
        Parameter(
            "K_R",
            25.0,
            "mg/L",
            "serum rituximab giving half-maximal opsonisation",
            f"{_BERINSTEIN}: serum rituximab ≥ 25 µg/mL associated with response",
            (1.0, 500.0),
            HALF_SATURATION,
        ),
        Parameter(
            "k_R",
            0.003,
            "1/d",
            "maximal direct (complement, apoptosis) rituximab kill rate",
            _assume("a minor share (~¼) of the rituximab effect; ADCC dominates"),
            (0.0, 0.05),
        ),
        Parameter(
            "t_half_R",
            22.0,
            "d",
            "rituximab terminal elimination half-life",
            _LABEL,
            (6.1, 52.0),
            _DIVIDES,  # elimination rate ln2/t_half_R
        ),
        Parameter(
            "s_N",
            _NK_PRODUCTION,
            "cells/d",
            "NK cell production (15 × 10⁶ cells/L/d × 5 L blood)",
            f"{_ZHANG}; blood volume 5 L ({_DEPILLIS})",
            (1e6, 1e10),
        ),
        Parameter(
            "d_N",
            _NK_TURNOVER,
            "1/d",
            "NK cell loss rate (= proliferation 4.3 %/day at steady state; turnover ~2 weeks)",
            _ZHANG,
            (0.005, 0.3),
        ),
        Parameter(
            "s_G",
            _GD_DEATH * _GD_BASELINE,
            "cells/d",
            "Vγ9Vδ2 T-cell influx (d_G × baseline 2 × 10⁸ cells)",
            _assume(
                "baseline ≈ 3 % of 1.4 × 10⁹/L blood T cells × 5 L ≈ 2 × 10⁸ Vγ9Vδ2 cells; "
                "influx set so that this is the steady state"
            ),
            (1e4, 1e10),
        ),
        Parameter(
            "d_G",
            _GD_DEATH,
            "1/d",
            "Vγ9Vδ2 T-cell loss rate (half-life ≈ 17 days)",
            _assume(
                "turnover of a few %/day, as for NK cells; expansions after zoledronate + IL-2 "
                f"fade within weeks when not re-stimulated ({_DIELI})"
            ),
            (0.005, 0.3),
        ),
        Parameter(
            "p_G",
            0.9,
            "1/d",
            "maximal Vγ9Vδ2 expansion rate with phosphoantigen and IL-2",
            _assume(
                "calibrated to a few-fold expansion per cycle of zoledronate 4 mg + IL-2 for "
                f"5 days, as in responders of {_WILHELM} and {_DIELI}; expansion needs IL-2 "
                f"({_BENNOUNA})"
            ),
            (0.0, 5.0),
        ),
        Parameter(
            "K_Z",
            1.0,
            "mg",
            "zoledronate stimulus for half-maximal γδ expansion",
            _assume("the standard 4 mg dose gives 80 % of the maximal stimulus"),
            (0.01, 100.0),
            HALF_SATURATION,
        ),
        Parameter(
            "k_Z",
            _LN2,
            "1/d",
            "loss of the zoledronate stimulus (effective half-life 1 day)",
            _assume(
                "plasma zoledronate falls to < 1 % of Cmax in 24 h (early half-lives 0.2 and "
                f"1.4 h, {_CHEN}); the stimulus acts through monocytes that took the drug up, so "
                "an effective half-life of 1 day is taken"
            ),
            (0.05, 10.0),
        ),
        Parameter(
            "K_I",
            0.01,
            "MIU/L",
            "serum IL-2 for half-maximal γδ expansion (10⁴ IU/L)",
            _assume(
                "low-dose IL-2 10⁶ IU/d keeps 2 × 10⁴ IU/L in 5 L at μ_I = 10/d: 2/3 of the "
                "maximal co-stimulation"
            ),
            (1e-4, 10.0),
            HALF_SATURATION,
        ),
        Parameter("mu_I", 10.0, "1/d", "IL-2 elimination", _DEPILLIS, (0.1, 50.0)),
    ),
    rhs=_rhs,
    initial={
        "T": 1.0e11,
        "N": _NK_PRODUCTION / _NK_TURNOVER,
        "G": _GD_BASELINE,
        "R": 0.0,
        "Z": 0.0,
        "I": 0.0,
    },
    inputs=(
        DosingInput(
            "rituximab",
            "R",
            "mg/L",
            "anti-CD20 antibody into the serum",
            aliases=("anti-CD20", "MabThera", "Rituxan", "RTX"),
            volume_L=RITUXIMAB_VOLUME_L,
        ),
        DosingInput(
            "zoledronate",
            "Z",
            "mg",
            "aminobisphosphonate (γδ T-cell phosphoantigen stimulus)",
            aliases=(
                "zoledronic acid",
                "Zometa",
                "aminobisphosphonate",
                "pamidronate",
                "phosphoantigen",
                "IPH1101",
                "BrHPP",
            ),
        ),
        DosingInput(
            "IL-2",
            "I",
            "IU/L",
            "interleukin-2 into the blood (state I in 10⁶ IU/L)",
            aliases=("IL2", "aldesleukin", "interleukin-2", "low-dose IL-2"),
            scale=1e-6,
            volume_L=BLOOD_VOLUME_L,
        ),
    ),
    tumor_state="T",
    effector_states=("N", "G"),
    assumptions=(
        "Not a published model: logistic FL growth, saturating ADCC by NK and CD16⁺ γδ T cells "
        "opsonised by rituximab, and γδ expansion needing both phosphoantigen and IL-2 are "
        "combined here, each term with its reference.",
        "Tumor volume doubling of 180 days (indolent FL); carrying capacity 10¹² cells (≈ 1 kg).",
        "Default initial tumor 10¹¹ cells (≈ 100 cm³ at 10⁹ cells/cm³): relapsed FL needing "
        "treatment.",
        "Rituximab as one compartment of 3.0 L with the 22-day terminal half-life (label §12.3; "
        "FL central volume 2.98 L, Regazzi 2005); no target-mediated clearance.",
        "Opsonisation ρ = R/(R + K_R) with K_R = 25 µg/mL (Berinstein 1998) scales both ADCC and "
        "the direct antibody kill: without rituximab neither NK nor γδ cells kill tumor.",
        "NK cells: the circulating pool at steady state s_N/d_N ≈ 1.7 × 10⁹ (Zhang 2007); "
        "tumor-independent (no recruitment or exhaustion by the tumor).",
        "The ADCC half-saturation h and the γδ expansion rate p_G are calibrated (see their "
        "sources): rituximab alone brings the default patient to about the Lugano PR threshold; "
        "one zoledronate + IL-2 cycle expands γδ T cells a few-fold.",
        "CD16⁺ share of Vγ9Vδ2 cells φ_G = 0.3, direct rituximab kill k_R = 0.003/d, zoledronate "
        "stimulus half-life 1 day and K_Z = 1 mg, K_I = 10⁴ IU/L: illustrative choices.",
        "Doses in mg of rituximab become serum concentrations with 3.0 L, IL-2 in IU with the 5 L "
        "blood volume of de Pillis 2006; zoledronate stays an amount (mg).",
        "IL-2 is held in 10⁶ IU/L (MIU/L) rather than IU/L so that the default absolute tolerance "
        "(10⁻⁶ state units = 1 IU/L) does not make the integrator follow each IL-2 washout over "
        "10 more decades: this halves the cost of a regimen with IL-2; the dynamics are those of "
        "de Pillis 2006 (μ_I = 10/d).",
    ),
)
