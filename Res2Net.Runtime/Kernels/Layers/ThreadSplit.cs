namespace Res2Net.Runtime.Kernels.Layers;

/// <summary>How a layer's work is divided between the threads of a forward.</summary>
public enum ThreadSplit
{
    /// <summary>One thread: too little work (fewer than 2^18 multiply-adds) to pay for waking another.</summary>
    Single,

    /// <summary>Each thread takes a range of pixel tiles and streams all weights over them (large maps).</summary>
    PixelTiles,

    /// <summary>Each thread takes a range of weight panels over all pixels (small maps, many channels: layer4's 7×7).</summary>
    WeightPanels,
}
