"""Madsen & Johansen (2020), the rigorous static arithmetic task and its success rates.

Protocol (shared/PROTOCOLS.md 2.3): x ∈ U[1, 2]^100 (extrapolation U[2, 6]), contiguous
subsets of 25 overlapping by 12 at a per-seed offset, a fresh batch of 128 each step, fixed
evaluation sets of 10,000 samples evaluated every 1,000 steps, two layers of hidden size 2,
Adam lr 1e-3. The paper trained 5e6 iterations over 100 seeds; the NMU regularizer ramps
from 20% to 40% of the run (1e6 → 2e6 in the paper), the NAU's from 5e3 to 5e4 steps.
Model names follow the paper's rows: "NMU" is a NAU first layer under an NMU, "NAC•" a NAC
under a NAC•, "NAC•,σ" a NAC under a NAC•,σ and "NAC•,NMU" a NAU under a NAC•,NMU.
The appendix's gating experiment adds three rows on + and ×: a NAC under a NALU whose paths
share their weights (``nac/nalu``) or not (``nac/nalu-separate``), and a NAU under the gated
NAU/NMU (``nau/gated-nau-nmu``).
"""
from ..report.published import Published
from ..scoring.thresholds import MadsenReference
from ..tasks import presets
from ..train import TrainConfig
from ..units.network import option_keys
from .arithmetic import ArithmeticTasks
from .blog_static import TARGETS
from .spec import Deviation, Experiment


def unit_options(model: str, target: str, iterations: int) -> dict:
    """The options of each unit in ``model``, as stable-nalu ran the paper's rows.

    One regularizer, ``--regualizer`` (default 10) times one linear ramp (default 1e6 → 2e6
    steps of 5e6), multiplies the sum of every layer's term
    (``experiments/simple_function_static.py:30-34, 119-128, 363-374``), so the "NMU" row
    (``--layer-type ReRegualizedLinearNAC --nac-mul mnac``) gives its NAU and its NMU the same
    λ = 10 ramped over 20%–40% of the run, and so does the "NAC•,NMU" row's (``--layer-type
    ReRegualizedLinearPosNAC --first-layer ReRegualizedLinearNAC``, lines 48-52); the "NAU" row
    ran with 0.01 from 5e3 to 5e4 steps (``lfs_batch_jobs/function_task_static.sh:61-77``).
    The gating experiment's gated NAU/NMU (``--layer-type ReRegualizedLinearNALU --first-layer
    ReRegualizedLinearNAC``) takes the same λ = 10 and ramp for its first NAU and both its paths
    (``lfs_batch_jobs/function_task_static_nalu.sh:22-26``).
    NAC, NAC•, NAC•,σ and NALU rows use no sparsity regularizer (their layers have none), the
    NAC init and eps 1e-7 (``stable_nalu/network/simple_function_static.py:9``); the MLPs use
    ``BasicLayer``'s init.

    >>> unit_options("nau/nmu", "mul", 5_000_000)["nau"]
    {'regularizer_scale': 10.0, 'regularizer_start': 1000000.0, 'regularizer_end': 2000000.0}
    """
    shared = {"regularizer_scale": 10.0, "regularizer_start": 0.2 * iterations, "regularizer_end": 0.4 * iterations}
    options = {
        "nac": {"init": "stable-nalu"},
        "nac-mul": {"init": "stable-nalu", "eps": 1e-7},
        "nalu": {"init": "stable-nalu", "eps": 1e-7},
        "nalu-separate": {"init": "stable-nalu", "eps": 1e-7},
        "gated-nau-nmu": shared,
        "nac-mul-sigma": {"eps": 1e-7},
        "nac-mul-nmu": {"eps": 1e-7, **shared},
        "nau": shared if model in ("nau/nmu", "nau/nac-mul-nmu", "nau/gated-nau-nmu") else {"regularizer_scale": 0.01,
                                                                                 "regularizer_start": 5e3,
                                                                                 "regularizer_end": 5e4},
        "nmu": shared,
        "mlp": {"init": "stable-nalu"},
    }
    return {unit: o for unit, o in options.items() if unit in option_keys(model)}


PUBLISHED = Published(
    source="Madsen & Johansen (2020), static task, over 100 seeds, 5e6 iterations (stable-nalu@b3296ac "
           "paper/results/sft-short.csv, added in f371c1e)",
    metric="success_rate",
    models={"NAC+": "nac", "NAC•": "nac/nac-mul", "NAC•,σ": "nac/nac-mul-sigma", "NAC•,NMU": "nau/nac-mul-nmu",
            "NALU": "nalu", "NAU": "nau", "NMU": "nau/nmu", "Linear": "mlp-none", "ReLU": "mlp-relu",
            "ReLU6": "mlp-relu6"},
    values={
        "NAC+": {"add": 1.00, "sub": 1.00, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "NAC•": {"add": 0.0, "sub": 0.0, "mul": 0.31, "div": 0.0, "square": 0.77, "sqrt": 0.07},
        "NAC•,σ": {"add": 0.0, "sub": 0.0, "mul": 1.00, "div": 0.0, "square": 1.00, "sqrt": 0.0},
        "NAC•,NMU": {"add": 0.0, "sub": 0.0, "mul": 0.93, "div": 0.0, "square": 1.00, "sqrt": 0.03},
        "NALU": {"add": 0.14, "sub": 0.14, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.02},
        "NAU": {"add": 1.00, "sub": 1.00, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "NMU": {"add": 0.0, "sub": 0.56, "mul": 0.98, "div": 0.0, "square": 1.00, "sqrt": 0.0},
        "Linear": {"add": 1.00, "sub": 0.07, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "ReLU": {"add": 0.62, "sub": 0.0, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
        "ReLU6": {"add": 0.0, "sub": 0.0, "mul": 0.0, "div": 0.0, "square": 0.0, "sqrt": 0.0},
    },
    protocol={"iterations": 5_000_000, "optimizer": "adam", "lr": 1e-3, "seeds": 100, "eval_samples": 10_000},
    # sft-short.csv's converged.at.{median, mean, lower, upper}, as printed (cells without a success: NA)
    solved_at={
        "NAC+": {"add": (248500, 492492.9744785637, 447626.1175393659, 544457.1480715236),
                 "sub": (9000, 370660.8639109555, 332306.83283542044, 408861.1112400317)},
        "NAC•": {"mul": (2771000, 3007161.2903243955, 2769012.096504683, 3297896.3838259312),
                 "square": (3273000, 3181506.4935043035, 2982761.0138320588, 3339367.626045144),
                 "sqrt": (400000, 1479714.2857141406, 921644.9505923265, 2076494.550525506)},
        "NAC•,σ": {"mul": (2547500, 2648750.000005314, 2576906.8937236015, 2736449.8637594664),
                   "square": (1889000, 1938492.5428876579, 1876369.2687385147, 1991496.3888744486)},
        "NAC•,NMU": {"mul": (1750000, 1932665.0433804754, 1839308.035345352, 2009674.4920280138),
                     "square": (1356500, 1465511.9492066165, 1406520.1652284174, 1536037.018821591),
                     "sqrt": (1003000, 1003000, 1003000, 1003000)},
        "NALU": {"add": (1493000, 1610857.1428582682, 1280977.9202467555, 1993668.0308674222),
                 "sub": (1877500, 1905615.8465838265, 1451008.896070335, 2349543.2460978483),
                 "sqrt": (2644500, 3327098.383661162, 1114085.0251946526, 5119901.771815567)},
        "NAU": {"add": (18000, 390919.1237556279, 353873.64803, 434566.753774287),
                "sub": (5000, 161802.26627771766, 145642.65406155624, 178534.2300161707)},
        "NMU": {"sub": (1001000, 1001928.5714300274, 1001346.447393834, 1002510.7259494235),
                "mul": (1434500, 1520970.3448828245, 1455520.983798807, 1569098.1494700755),
                "square": (1219500, 1253612.1159969568, 1217468.253974567, 1284627.4107334148)},
        "Linear": {"add": (61000, 63056.13452500741, 59751.958809440875, 65581.25814593126),
                   "sub": (3332000, 1446751.4734793992, 836626.2757393775, 2147484.466919322)},
        "ReLU": {"add": (61500, 76368.12911357463, 69396.69931785313, 84715.25355253878)},
    },
    # sft-short.csv's sparse.error.{mean, lower, upper}
    sparsity_error={
        "NAC+": {"add": (0.22655925694933113, 0.22007106516393143, 0.23309025650543858),
                 "sub": (0.22980147201955328, 0.224386300044536, 0.23524199140318244)},
        "NAC•": {"mul": (5.803962960754129e-4, 3.2289171648511365e-4, 0.0010632081607829524),
                 "square": (0.01811964606372017, 0.017551419264732446, 0.01869758661247044),
                 "sqrt": (0.24072443398157184, 0.22370309175614406, 0.25785910480348817)},
        "NAC•,σ": {"mul": (4.60893400772216e-5, 4.0506454816611315e-5, 5.104494249601079e-5),
                   "square": (0.017772581879236662, 0.017337654015106625, 0.018204701483645946)},
        "NAC•,NMU": {"mul": (9.453345005910109e-7, 5.273404080229873e-7, 1.3633285931590345e-6),
                     "square": (2.949995109702286e-7, 2.808981386294204e-7, 3.091008833110368e-7),
                     "sqrt": (0.1675209451348127, 0.15944933348485107, 0.175797841861759)},
        "NALU": {"add": (0.17373399191609784, 0.14922362747431298, 0.20060252488827326),
                 "sub": (0.21472412268507207, 0.1932043237702662, 0.23698290238782574),
                 "sqrt": (0.49999746680259705, 0.49998951463998975, 0.5)},
        "NAU": {"add": (3.187102488368509e-5, 1.8930076945831674e-5, 4.481197282153851e-5),
                "sub": (0.0662117980934571, 0.047488572058398494, 0.09155987779607279)},
        "NMU": {"sub": (3.355361972794758e-4, 3.0936076833677095e-4, 3.679466858539988e-4),
                "mul": (4.205610505833851e-7, 3.9130444272148634e-7, 4.4981765844528386e-7),
                "square": (3.6637595790409705e-5, 0, 9.06801644473495e-5)},
        "Linear": {"add": (0.24890386914128623, 0.24854836445137593, 0.24925932720502308),
                   "sub": (0.17611058502027438, 0.11805021625167934, 0.248256538732922)},
        "ReLU": {"add": (0.24532662355169033, 0.24296164611681312, 0.2476926665125551)},
    },
    intervals="profile-likelihood intervals of a gamma fit (solved at) and a beta fit (sparsity error), falling "
              "back to Student-t where the values barely vary (stable-nalu export/_compute_summary.r)",
)

PUBLISHED_GATE = Published(
    source="Madsen & Johansen (2020), appendix, the gating experiment: a NAU under the gated NAU/NMU, and a NAC "
           "under a NALU whose NAC+ and NAC• have separate weights or share them, over 100 seeds, 5e6 iterations "
           "(stable-nalu@b3296ac paper/results/function_task_static_nalu.tex, as printed: two significant digits; "
           "lfs_batch_jobs/function_task_static_nalu.sh:10-26: --layer-type NALU --first-layer NAC, with "
           "--nalu-two-nac for separate weights; --layer-type ReRegualizedLinearNALU --first-layer "
           "ReRegualizedLinearNAC --nalu-two-nac --nalu-mul mnac for the gated NAU/NMU)",
    metric="success_rate",
    models={"Gated NAU/NMU": "nau/gated-nau-nmu", "NALU (separate)": "nac/nalu-separate",
            "NALU (shared)": "nac/nalu"},
    values={"Gated NAU/NMU": {"add": 0.37, "mul": 0.62},
            "NALU (separate)": {"add": 0.51, "mul": 0.22},
            "NALU (shared)": {"add": 0.34, "mul": 0.24}},
    protocol=PUBLISHED.protocol,
    # the printed mean and its printed +/- offsets
    solved_at={"Gated NAU/NMU": {"add": (1.9e4, 4.2e5, 4.2e5 - 6.7e4, 4.2e5 + 7.3e4),
                                 "mul": (1.5e6, 1.5e6, 1.5e6 - 3.8e4, 1.5e6 + 3.9e4)},
               "NALU (separate)": {"add": (1.4e5, 2.9e5, 2.9e5 - 4.3e4, 2.9e5 + 3.5e4),
                                   "mul": (2.8e6, 3.3e6, 3.3e6 - 3.6e5, 3.3e6 + 3.9e5)},
               "NALU (shared)": {"add": (1.8e5, 3.1e5, 3.1e5 - 5.4e4, 3.1e5 + 4.3e4),
                                 "mul": (2.9e6, 3.3e6, 3.3e6 - 3.6e5, 3.3e6 + 3.7e5)}},
    sparsity_error={"Gated NAU/NMU": {"add": (1.7e-1, 1.7e-1 - 4.0e-2, 1.7e-1 + 4.6e-2),
                                      "mul": (5.0e-5, 5.0e-5 - 1.8e-5, 5.0e-5 + 2.3e-5)},
                    "NALU (separate)": {"add": (1.8e-1, 1.8e-1 - 1.4e-2, 1.8e-1 + 1.4e-2),
                                        "mul": (5.8e-2, 5.8e-2 - 2.3e-2, 5.8e-2 + 4.1e-2)},
                    "NALU (shared)": {"add": (1.8e-1, 1.8e-1 - 2.1e-2, 1.8e-1 + 2.3e-2),
                                      "mul": (1.0e-3, 1.0e-3 - 4.5e-4, 1.0e-3 + 1.1e-3)}},
    intervals=PUBLISHED.intervals,
)
GATE_MODELS = ("nac/nalu", "nac/nalu-separate", "nau/gated-nau-nmu")
"""The gating experiment's rows, which it ran on + and × only (``function_task_static_nalu.sh:4``)."""

SOURCES = {  # protocol-card setting -> its source (`nalm show`)
    "task": "AndreasMadsen/stable-nalu@b3296ac stable_nalu/dataset/_simple_function_abstact.py:76-93 "
            "(contiguous subsets, overlap, a random offset per seed) and "
            "experiments/simple_function_static.py:76-90 (input 100, subset ratio 0.25, overlap ratio 0.5)",
    "ranges": "AndreasMadsen/stable-nalu@b3296ac experiments/simple_function_static.py:66-75 (U[1, 2] → U[2, "
              "6]); Madsen & Johansen 2020, section 4.1",
    "targets": "AndreasMadsen/stable-nalu@b3296ac lfs_batch_jobs/function_task_static.sh:6 (add sub mul div "
               "squared root)",
    "seeds": "AndreasMadsen/stable-nalu@b3296ac lfs_batch_jobs/function_task_static.sh:8 (seeds 0..99)",
    "iterations": "AndreasMadsen/stable-nalu@b3296ac lfs_batch_jobs/function_task_static.sh (--max-iterations "
                  "5000000); Madsen & Johansen 2020, section 4.1",
    "optimizer": "AndreasMadsen/stable-nalu@b3296ac experiments/simple_function_static.py:164-174, :332-333 (Adam,"
                 " lr 1e-3, PyTorch's other defaults)",
    "batch size": "AndreasMadsen/stable-nalu@b3296ac experiments/simple_function_static.py:55-57 (a fresh batch of "
                  "128 every step)",
    "network": "AndreasMadsen/stable-nalu@b3296ac experiments/simple_function_static.py:96-98 (hidden size 2), "
               "stable_nalu/network/simple_function_static.py (two layers)",
    "evaluation": "AndreasMadsen/stable-nalu@b3296ac experiments/simple_function_static.py:306-307 (fixed sets of "
                  "10,000 samples) and :354 (every 1,000 steps)",
    "baseline": "Trask et al. 2018, section 4.1 (normalized error against untrained models); nalm reports it "
                "beside Madsen's success rate, which needs no baseline",
    "metric": "Madsen & Johansen 2020, section 4.1 and AndreasMadsen/stable-nalu@b3296ac "
              "export/function_task_static.r (success rate over seeds)",
    "models": "Madsen & Johansen 2020, Table 1 rows; AndreasMadsen/stable-nalu@b3296ac "
              "lfs_batch_jobs/function_task_static.sh:12-77 (one layer type per row), "
              "export/_function_task_expand_name.r:4-19 (the rows' names)",
}


EXPERIMENT = Experiment(
    name="madsen2020-static",
    description=__doc__.strip().splitlines()[0],
    workload=ArithmeticTasks(
        tasks=(presets.madsen2020(),),
        threshold_rule=MadsenReference(),
        primary="success_rate",
    ),
    models=("nac", "nac/nac-mul", "nac/nac-mul-sigma", "nau/nac-mul-nmu", "nalu", "nau", "nau/nmu", "mlp-none",
            "mlp-relu", "mlp-relu6", *GATE_MODELS),
    targets=TARGETS,
    model_targets={model: ("add", "mul") for model in GATE_MODELS},
    seeds=10,
    train=TrainConfig(optimizer="adam", lr=1e-3, batch_size=128, iterations=50_000, eval_every=1000,
                      eval_samples=10_000, hidden=2),
    paper_seeds=100,
    paper_scale={"iterations": 5_000_000},
    unit_options=unit_options,
    published=(PUBLISHED, PUBLISHED_GATE),
    sources={
        **SOURCES,
        "models": SOURCES["models"] + "; the appendix's gating rows (nac/nalu, nac/nalu-separate, "
                                      "nau/gated-nau-nmu) on + and × only: lfs_batch_jobs/function_task_static_nalu.sh"
                                      ":4, 10-26, their names export/function_task_static_nalu.r:50",
        "threshold": "stable-nalu export/function_task_static_mse_expectation.r:33-59 (subsets), "
                          ":97-104 (eps 1e-5), :120 (1e6 samples); its values in paper/results/sft-last.csv",
        "unit options: nau": "NAU row: λ 0.01 ramped 5e3 → 5e4 steps (stable-nalu lfs_batch_jobs/function_task_static.sh:61-65); "
                             "NMU row: its NAU shares the NMU's schedule, one regularizer for all layers "
                             "(experiments/simple_function_static.py:363-374, function_task_static.sh:67-71)",
        "unit options: nac-mul-nmu": "the NAC•,NMU row (stable-nalu lfs_batch_jobs/function_task_static.sh:48-52): "
                                     "its NAU and its NAC•,NMU share the NMU row's λ 10 and ramp, eps 1e-7 "
                                     "(stable_nalu/network/simple_function_static.py:9)",
        "init: nac-mul-sigma": "Ŵ xavier_normal_ (stable-nalu stable_nalu/layer/pos_nac.py:26-27), under a NAC with "
                               "the NAC init (function_task_static.sh:42-46: --layer-type PosNAC --first-layer NAC); "
                               "eps 1e-7",
        "unit options: nmu": "λ 10 ramped over 20%–40% of the run, 1e6 → 2e6 of 5e6 at paper scale "
                             "(stable-nalu experiments/simple_function_static.py:30-34, 119-128)",
        "init: nac": "U[-r, r], r = nac_w_optimal_r(fan_in, fan_out) (stable-nalu stable_nalu/layer/nac.py:22-30, 54-57)",
        "init: nac-mul": "NAC init as above; stable-nalu: a NAC applied in log space, --nac-mul normal (stable_nalu/network/simple_function_static.py:58-61), eps 1e-7 (line 9)",
        "unit options: gated-nau-nmu": "the gated NAU/NMU row (stable-nalu lfs_batch_jobs/function_task_static_nalu.sh:"
                                       "22-26): its NAU, and its gate's NAU and NMU, share the NMU row's λ 10 and ramp "
                                       "(experiments/simple_function_static.py:363-374)",
        "init: gated-nau-nmu": "NAU U[-r, r] and NMU U[0.25, 0.75] paths (stable-nalu stable_nalu/layer/"
                               "re_regualized_linear_nac.py:43-46, re_regualized_linear_mnac.py:46-49), gate "
                               "xavier_uniform_ gain 1 (stable_nalu/layer/_abstract_nalu.py:90-92)",
        "init: nalu-separate": "each path's NAC as the NAC's, gate as the NALU's (stable-nalu stable_nalu/layer/"
                               "_abstract_nalu.py:40-42, 85-92: --nalu-two-nac); eps 1e-7",
        "init: nalu": "NAC as above, gate xavier_uniform_ gain 1 (stable-nalu stable_nalu/layer/_abstract_nalu.py:90-92); "
                      "eps 1e-7 (stable_nalu/network/simple_function_static.py:9)",
        "init: mlp": "zero biases; kaiming_uniform_ (ReLU gain) before ReLU/ReLU6, xavier_uniform_ gain 1 for "
                     "linear and output layers (stable-nalu stable_nalu/layer/basic.py:20-73, "
                     "stable_nalu/network/simple_function_static.py:32-33)",
    },
    deviations=(
        Deviation("iterations", "5e6 iterations over 100 seeds (lfs_batch_jobs/function_task_static.sh)",
                  "5e4 iterations and 10 seeds by default (--paper-scale: 5e6 and 100); the NMU ramp scales "
                  "with the run (20%-40%)",
                  "5e6 steps for 100 seeds take days on a CPU; the default fits a session, and the cells that "
                  "solve early (NAU, NAC+ on add and sub) are decided within it"),
        Deviation("threshold",
                  reference="the R script's perfect solution sums subsets of 26 overlapping by 13 "
                            "(inclusive R ranges), while the data sums 25 overlapping by 12",
                  ours="follows the script (26/13), not the subsets the task itself sums (25/12)",
                  reason="reproduced so that success rates compare with the published ones; "
                         "on the task's own subsets the add, div and sqrt thresholds would be 8-17% higher"),
        Deviation("threshold",
                  reference="1e6 draws of R's generator, unseeded",
                  ours="1e6 draws of Philox4x32-10 (seed 0, the threshold stream)",
                  reason="R's stream is not reproduced; the thresholds agree with the published ones "
                         "within 0.4%"),
    ),
)
