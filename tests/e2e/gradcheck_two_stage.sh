#!/usr/bin/env bash
# workbench gradcheck of Cascade R-CNN's box heads (reference kernels, --quick widths): the first stage
# (the same code as Faster R-CNN's roi_head, test_cascade shows them equal) and the last (stage 1 is that
# code again with other thresholds; left out to keep the test at ~20 s of CPU). The samplers take every candidate, so each loss() call samples the same RoIs and finite
# differences are smooth; stage s is checked with only its own loss weighted (the next stages see its refined
# boxes, detached by design, which finite differences would see). The RPN's predictions feed the proposals,
# also detached by design (mmdetection's and torchvision's detach()): finite differences of the loss with
# respect to them see the proposals move and the gradient by design does not, so those lines, and the
# earlier stages' deltas (whose refined boxes the checked stage samples, detached), are the only
# disagreements allowed.
# Last, roi_head's bbox_head = "res5" with trainable BN (the parity test, test_res5_head, has frozen BN).
# Usage: gradcheck_two_stage.sh WORKBENCH
set -uo pipefail
wb=$1
inputs=p2:8:4,p3:8:8,p4:8:16,p5:8:32,p6:8:64
common=(--quick --inputs $inputs --size 64 --points 4 --set sampler_num=100000 --set rpn.sampler_num=100000)
check() {  # check NAME PARAM_PREFIX gradcheck-args...
  local name=$1 prefix=$2 out
  shift 2
  out=$("$wb" gradcheck "$@" 2>&1)
  local pass fail_other
  pass=$(grep -c "^PASS d loss/d head\.$prefix\." <<<"$out")
  fail_other=$(grep "^FAIL" <<<"$out" | grep -v "^FAIL d loss/d pred rpn_\(cls\|reg\)_[0-9]" |
               grep -v "^FAIL d loss/d head\.bbox_head\.[0-9]\.fc_reg\." || true)  # the checked stage's: pass = 8
  if [ "$pass" -ne 8 ] || [ -n "$fail_other" ]; then
    echo "$out"
    echo "FAILED: $name: $pass of 8 box head tensors pass; other disagreements: ${fail_other:-none}"
    exit 1
  fi
  grep "^PASS d loss/d head\.$prefix\." <<<"$out" | sed "s/^/  /"
  echo "ok: $name: the box head's 8 tensors agree with finite differences"
}
check "cascade stage 0" "bbox_head\.0" cascade_roi_head "${common[@]}" --set "stage_loss_weights=[1.0, 0.0, 0.0]"
check "cascade stage 2" "bbox_head\.2" cascade_roi_head "${common[@]}" --set "stage_loss_weights=[0.0, 0.0, 1.0]"
# roi_head's res5 box head (2 Bottlenecks with trainable BN, batch statistics of the sampled RoIs) on a C4 input.
out=$("$wb" gradcheck roi_head --quick --inputs c4:8:16 --size 64 --points 4 --set "roi_strides=[16]" \
      --set "rpn.strides=[16]" --set bbox_head=res5 --set res5_blocks=2 --set res5_norm=bn --set roi_size=4 \
      --set sampler_num=100000 --set rpn.sampler_num=100000 2>&1)
res5=$(grep -c "^PASS d loss/d head\.res5\." <<<"$out" || true)
if [ "$res5" -ne 21 ] || ! grep -q "^gradcheck passed: roi_head" <<<"$out"; then
  echo "$out"
  echo "FAILED: roi_head res5: $res5 of 21 res5 tensors pass"
  exit 1
fi
echo "ok: roi_head res5: its 21 tensors agree with finite differences"
echo "3 passed, 0 failed"
