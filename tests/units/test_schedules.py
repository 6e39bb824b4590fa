"""What a unit does from fixed training steps on (step_schedules), and what a run of some length
misses of it."""
from nalm.units import INALU, NAU, NMU, RealNPU
from nalm.units.base import Ramp, step_schedules
from nalm.units.network import build_model


def test_a_ramp_is_cut_where_the_run_ends_before_it():
    (ramp,) = NAU(2, 1).step_schedules()  # the NAU's default: λ 0.01 from 5e3 to 5e4
    assert ramp == Ramp("regularizer", ("regularizer_start", "regularizer_end"), 0.01, 5e3, 5e4)
    assert ramp.cut(5_001) == "never turns on"  # steps 0..5,000: λ(5,000) is 0
    assert ramp.cut(27_501) == "reaches 50% of its weight (λ 0.005 of 0.01)"
    assert ramp.cut(50_000) is None and ramp.cut(5_000_000) is None  # a ramp that ends with the run is whole
    assert NMU(2, 1, regularizer_scale=0).step_schedules() == []  # no regularizer, no schedule


def test_the_npu_l1_growth_and_the_inalu_switches():
    (growth,) = RealNPU(2, 1).step_schedules()  # 1e-7 → 1e-5, ×10 every 10,000 steps
    assert growth.cut(10_000) == "never leaves 1e-07"
    assert growth.cut(15_000) == "reaches only 1e-06 of 1e-05"
    assert growth.cut(20_001) is None and "final from step 20,000" in growth.describe()
    regularizer, plateau = INALU(2, 1).step_schedules()
    assert regularizer.cut(10_001) == "never turns on" and regularizer.cut(10_002) is None
    assert plateau.cut(5_000) == "never re-initializes a member" and plateau.cut(5_001) is None
    assert INALU(2, 1, regularizer_start=None, reinitialize=False).step_schedules() == []


def test_a_network_lists_each_unit_class_schedule_once():
    net = build_model("nau", 4, 1, hidden=2, unit_options={"nau": {"regularizer_start": 10, "regularizer_end": 20}})
    assert [(unit, s.start, s.end) for unit, s in step_schedules(net)] == [("NAU", 10, 20)]
    assert [unit for unit, _ in step_schedules(build_model("nau/nmu", 4, 1, hidden=2))] == ["NAU", "NMU"]
    assert step_schedules(build_model("mlp-relu", 4, 1, hidden=2)) == []
