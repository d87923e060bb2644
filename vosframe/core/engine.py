"""The per-frame engine: runs one frame of a base model for all objects of a session.

For every frame it (1) extracts features up to the feature cut F_t when a path-deciding
plugin is attached (else all levels), (2) asks that plugin, per object, for the full or
the alternative path, (3) resumes feature extraction only if some object needs the full
path (shared by all objects), (4) runs the localizer and the refiner for the full group,
capturing the re-entry feature, and the plugin's alternative plus the refiner's tail for
the alternative group (or the masks it keeps or gives as they are), (5) lets plugins
filter the new probabilities (:meth:`~vosframe.core.plugin.ModelPlugin.filter_probs`),
updates each object's track status and re-detects lost objects
(:mod:`vosframe.core.recovery`), and aggregates all
objects, with given masks of new objects overwriting the prediction in their pixels,
(6) updates the localizer state of the full group only (rebuilds it for re-found
objects), initialises new objects, and lets every plugin observe the outcome.

The engine holds no per-video state: all of it is in the :class:`ObjectState` objects,
and the decider's options (``tau``, a forced path) come with each frame
(``FrameState.options``, set by the session). The decider returns one
:class:`~vosframe.core.plugin.Decision` per object; its confidence is recorded in each
:class:`~vosframe.core.state.PathRecord`, and the decisions of the objects on the
alternative path are handed back to the decider's ``alternative``, whose per-object
results the engine turns into masks (running the refiner's tail for objects that
re-enter it).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import attrs
import torch

from vosframe.core.model import VOSModel
from vosframe.core.plugin import Decision, Keep, Logits, ModelPlugin, Probs, Reenter
from vosframe.core.recovery import Recovery, RecoveryPolicy
from vosframe.core.state import Features, FrameState, ObjectState, Path, PathRecord


@attrs.define
class NewObject:
    """An object whose mask is given on the current frame.

    Attributes:
        obj_id: The user's id.
        mask: ``(1, 1, H, W)`` float mask at internal size.
    """

    obj_id: int
    mask: torch.Tensor


@attrs.define
class FrameOutput:
    """Engine result for one frame.

    Attributes:
        objects: All objects after the frame (tracked first, then new), in class order.
        probs: ``(1 + N, 1, H, W)`` aggregated class probabilities at internal size,
            background first, then ``objects`` in order.
        records: Path and time per object id.
        unchanged: True if every object kept its last output mask (see
            :class:`~vosframe.core.plugin.Keep`): ``probs`` is the previous
            frame's output.
    """

    objects: list[ObjectState]
    probs: torch.Tensor
    records: dict[int, PathRecord]
    unchanged: bool = False


def _ms(t0: float) -> float:
    return (time.perf_counter() - t0) * 1000.0


class FrameEngine:
    """Runs frames of one model; reads the plugin configuration once at construction.

    Args:
        model: The base model with its plugins attached.
        recovery: Lost-object policy (None: the defaults of :class:`RecoveryPolicy`).
    """

    def __init__(self, model: VOSModel, recovery: RecoveryPolicy | None = None) -> None:
        self.model = model
        self.recovery = Recovery(model, recovery if recovery is not None else RecoveryPolicy())
        self.decider = model.path_plugin
        self.cut: int | None = None
        self.reentry: tuple[str, int] | None = None
        if self.decider is not None:
            self.cut = self.decider.points["feature_cut"].stride
            r = self.decider.points["reentry"]
            self.reentry = (r.name, r.stride)
        self.init_plugins = [p for p in model.plugins if p.needs_init_outputs]
        self.filters = [
            p for p in model.plugins if type(p).filter_probs is not ModelPlugin.filter_probs
        ]

    def _full(
        self,
        features: Features,
        objs: Sequence[ObjectState],
        out_size: tuple[int, int],
        *,
        peek: bool = False,
    ) -> torch.Tensor:
        model = self.model
        localize = model.localizer.peek if peek else model.localizer.localize
        score = localize(features, [o.localizer for o in objs])
        capture = (self.reentry[1],) if self.reentry else ()
        out = model.refiner.run(score, features, out_size, capture=capture)
        for i, o in enumerate(objs):
            o.last_score = score[i : i + 1]
            if self.reentry:
                o.refined[self.reentry[0]] = out.captured[self.reentry[1]][i : i + 1]
        return out.logits

    def _alternative(
        self,
        frame: FrameState,
        objs: Sequence[ObjectState],
        results: Sequence[Reenter | Logits | Keep | Probs],
        logits: dict[int, torch.Tensor],
        kept: dict[int, torch.Tensor],
    ) -> bool:
        """Turn the decider's per-object results into logits or kept masks; True if some
        kept mask is a new one (:class:`Probs`). Objects that re-enter the refiner run its
        tail in one batch."""
        if len(results) != len(objs):
            raise TypeError(
                f"{type(self.decider).__name__}.alternative returned {len(results)} results "
                f"for {len(objs)} objects; it must return one per object"
            )
        moved = False
        reenter: list[int] = []
        for i, (o, r) in enumerate(zip(objs, results)):
            if isinstance(r, Keep):
                kept[o.obj_id] = o.last_prob
            elif isinstance(r, Probs):
                kept[o.obj_id], moved = r.probs, True
            elif isinstance(r, Logits):
                logits[o.obj_id] = r.logits
            elif isinstance(r, Reenter):
                reenter.append(i)
            else:
                raise TypeError(
                    f"{type(self.decider).__name__}.alternative returned {type(r).__name__}; "
                    "expected Reenter, Logits, Keep or Probs (vosframe.core.plugin)"
                )
        if reenter:
            assert self.reentry is not None
            score = torch.cat([results[i].score for i in reenter])  # type: ignore[union-attr]
            refined = torch.cat([results[i].refined for i in reenter])  # type: ignore[union-attr]
            size = tuple(frame.image.shape[-2:])
            out = self.model.refiner.run(
                score, frame.features, size, start=(self.reentry[1], refined)
            ).logits
            for k, i in enumerate(reenter):
                logits[objs[i].obj_id] = out[k : k + 1]
        return moved

    def run(
        self, frame: FrameState, tracked: list[ObjectState], new: list[NewObject]
    ) -> FrameOutput:
        """Process one frame.

        Args:
            frame: The frame; ``frame.features`` is filled here.
            tracked: Objects tracked from earlier frames (their masks are predicted).
            new: Objects whose masks are given on this frame.

        Returns:
            The objects, aggregated probabilities and per-object path records.
        """
        model = self.model
        size = tuple(frame.image.shape[-2:])
        gated = self.decider is not None and bool(tracked)
        decisions = [Decision() for _ in tracked]
        decide_ms = 0.0
        if gated and not new:  # decisions that need no features of this frame
            assert self.decider is not None
            t0 = time.perf_counter()
            decisions = list(self.decider.predecide(frame, tracked))
            decide_ms = _ms(t0) / len(tracked)
        if gated and not new and all(d.alt for d in decisions):  # skip the extractor
            frame.features = Features({}, size)
        else:
            up_to = self.cut if (gated and not new) else None
            frame.features = Features(model.feature_extractor(frame.image, up_to=up_to), size)
            open_ = [i for i, d in enumerate(decisions) if not d.alt]
            if gated and open_:
                assert self.decider is not None
                t0 = time.perf_counter()
                decided = self.decider.decide(frame, [tracked[i] for i in open_])
                for i, d in zip(open_, decided):
                    decisions[i] = d
                decide_ms += _ms(t0) / len(tracked)
        alt = [d.alt for d in decisions]
        full_objs = [o for o, a in zip(tracked, alt) if not a]
        alt_objs = [o for o, a in zip(tracked, alt) if a]
        if (full_objs or new) and len(frame.features.maps) < len(model.feature_extractor.levels):
            frame.features.maps = model.feature_extractor.resume(frame.features.maps)

        logits: dict[int, torch.Tensor] = {}
        kept: dict[int, torch.Tensor] = {}
        moved = False  # some kept mask is a new one (Probs)
        cost: dict[int, float] = {o.obj_id: decide_ms for o in tracked}
        if full_objs:
            t0 = time.perf_counter()
            out = self._full(frame.features, full_objs, size)
            for i, o in enumerate(full_objs):
                logits[o.obj_id] = out[i : i + 1]
                cost[o.obj_id] += _ms(t0) / len(full_objs)
        if alt_objs:
            assert self.decider is not None
            t0 = time.perf_counter()
            given = [d for d in decisions if d.alt]
            results = self.decider.alternative(frame, alt_objs, given)
            moved = self._alternative(frame, alt_objs, results, logits, kept)
            for o in alt_objs:
                cost[o.obj_id] += _ms(t0) / len(alt_objs)

        # Aggregate; the given masks of new objects overwrite the prediction in their pixels.
        fresh = [o for o in tracked if o.obj_id not in kept]
        predicted: dict[int, torch.Tensor] = {}
        refound: list[ObjectState] = []
        if fresh:
            # per object, as before (a sigmoid over the stacked tensor differs in the last bit)
            stacked_fresh = torch.cat([torch.sigmoid(logits[o.obj_id].float()) for o in fresh])
            for plugin in self.filters:
                stacked_fresh = plugin.filter_probs(frame, fresh, stacked_fresh)
            t0 = time.perf_counter()
            stacked_fresh, found = self.recovery.check(frame, fresh, stacked_fresh)
            predicted = {o.obj_id: stacked_fresh[i : i + 1] for i, o in enumerate(fresh)}
            if found:
                refound = [fresh[i] for i in found]
                for o in refound:
                    cost[o.obj_id] += _ms(t0) / len(refound)
        for o in tracked:
            if o.obj_id in kept:
                self.recovery.carry(o)
        per_obj = [
            kept[o.obj_id].float() if o.obj_id in kept else predicted[o.obj_id] for o in tracked
        ]
        new_masks = [n.mask.float() for n in new]
        stacked = torch.cat(per_obj + new_masks, dim=0) if (per_obj or new_masks) else None
        all_kept = bool(tracked) and not new and len(kept) == len(tracked)
        unchanged = all_kept and not moved
        if all_kept:  # the kept masks as they are (the last output: aggregated already)
            assert stacked is not None
            probs = torch.cat([(1.0 - stacked.sum(0, keepdim=True)).clamp_min(0.0), stacked])
        elif stacked is None:
            probs = torch.ones((1, 1, *size), device=frame.image.device)
        else:
            probs = model.aggregate(stacked)
            if new_masks:
                union = torch.cat(new_masks, 0).amax(0, keepdim=True)
                given = torch.cat([torch.zeros_like(union)] * (1 + len(tracked)) + new_masks, 0)
                probs = probs * (1 - union) + given * union

        if not unchanged:  # unchanged: last_prob stays the same tensor (plugins cache on it)
            for i, o in enumerate(tracked):
                o.last_prob = probs[1 + i : 2 + i]
        index = {o.obj_id: i for i, o in enumerate(tracked)}
        reinit = refound if self.recovery.policy.reinit else []
        learn = [o for o in full_objs if o not in reinit]
        if learn:
            t0 = time.perf_counter()
            fp = torch.cat([probs[1 + index[o.obj_id]] for o in learn])[:, None]
            model.localizer.update(frame.features, [o.localizer for o in learn], fp, frame.index)
            for o in learn:
                cost[o.obj_id] += _ms(t0) / len(learn)
        for o in reinit:  # its adapted state had learned the object's absence
            t0 = time.perf_counter()
            mask = (probs[1 + index[o.obj_id]][None] > 0.5).float()
            o.localizer = model.localizer.init_object(frame.features, mask, frame.image)
            cost[o.obj_id] += _ms(t0)

        created = self._init_objects(frame, new, probs, len(tracked), cost)
        paths: list[Path] = ["alt" if a else "full" for a in alt]
        for plugin in model.plugins:
            if tracked:
                plugin.observe(frame, tracked, paths)
        records = {
            o.obj_id: PathRecord(p, cost[o.obj_id], o.track.status, d.confidence)
            for o, p, d in zip(tracked, paths, decisions)
        }
        records.update({o.obj_id: PathRecord("init", cost[o.obj_id]) for o in created})
        for o in tracked + created:
            o.stats.record(records[o.obj_id])
        return FrameOutput(tracked + created, probs, records, unchanged)

    def _init_objects(
        self,
        frame: FrameState,
        new: list[NewObject],
        probs: torch.Tensor,
        offset: int,
        cost: dict[int, float],
    ) -> list[ObjectState]:
        if not new:
            return []
        model = self.model
        t0 = time.perf_counter()
        created = []
        for n in new:
            state = model.localizer.init_object(frame.features, n.mask, frame.image)
            created.append(ObjectState(n.obj_id, state, first_frame=frame.index))
        if any(p.init_outputs_needed(frame.options) for p in self.init_plugins):
            self._full(frame.features, created, tuple(frame.image.shape[-2:]), peek=True)
        for i, (o, n) in enumerate(zip(created, new)):
            o.last_prob = probs[1 + offset + i : 2 + offset + i]
            self.recovery.start(o, n.mask)
            for plugin in model.plugins:
                o.plugins[plugin.key] = plugin.init_object(frame, o, n.mask)
        for o in created:
            cost[o.obj_id] = _ms(t0) / len(created)
        return created
