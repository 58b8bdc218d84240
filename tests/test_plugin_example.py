"""The real third-party plugin examples/tbcore-boxes, pip-installed (CI stage example-plugin, scripts/test.sh)."""

from __future__ import annotations

import numpy as np
import pytest

from tbcore import SummaryWriter, plugins, summary
from tbcore.testing import tensorboard_accumulator

boxes = pytest.importorskip("tbcore_boxes", reason="pip install ./examples/tbcore-boxes")

pytestmark = pytest.mark.core


def test_entry_point_provides_a_summary_type_and_an_adapter(logdir):
    assert plugins.plugin_infos()["boxes"].distribution == "tbcore-boxes"
    image = np.full((10, 12, 3), 0.5, dtype=np.float32)
    box_list = boxes.BoxList([boxes.Box(1, 1, 5, 5)])
    with SummaryWriter(logdir) as writer:
        writer.add("boxes", "det", image, step=7, boxes=box_list)
    (event,) = tensorboard_accumulator(logdir).Tensors("det")
    assert event.step == 7 and event.tensor_proto.string_val[:2] == [b"12", b"10"]
    pure = summary.encode("boxes", "det", image, boxes=box_list)
    assert pure.value[0].image.width == 12
