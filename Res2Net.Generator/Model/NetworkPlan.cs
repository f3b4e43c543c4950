namespace Res2Net.Generator.Model
{
    /// <summary>
    /// A spec lowered to what the emitter writes out: every layer with static shapes, each operand an
    /// offset into one activation arena (assigned from liveness), each weight an offset into one packed
    /// weight buffer. Nothing here is decided at run time.
    /// </summary>
    internal sealed record NetworkPlan(
        NetworkSpec Spec,
        EquatableArray<LayerOp> Layers,
        EquatableArray<StateDictEntry> StateDict,
        EquatableArray<FeatureTap> Features,
        long Params,
        long Flops,
        int ArenaFloats,
        long GatherFloats,
        int PackedFloats);

    /// <summary>A tensor the checkpoint must hold, with its exact shape.</summary>
    internal sealed record StateDictEntry(string Key, EquatableArray<int> Shape);

    /// <summary>A stage output that <c>extract_feat</c> can return: index 0 is the stem, 1-4 are layer1-layer4.</summary>
    internal sealed record FeatureTap(int Index, string Name, Operand Source, int Channels, int Height, int Width, int AfterLayer);
}
