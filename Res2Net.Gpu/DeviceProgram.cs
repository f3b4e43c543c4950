namespace Res2Net.Gpu;

/// <summary>
/// A network's device forward, generated (<c>X.Gpu.g.cs</c>) from the same fused graph and arena placement as its CPU
/// class: the base holds what the plan fixed, the generated <see cref="Run"/> launches every layer in order.
/// </summary>
public abstract class DeviceProgram
{
    protected DeviceProgram(string modelName, int arenaFloats, int packedFloats, int inputElements, int numClasses, int launches)
    {
        ModelName = modelName;
        ArenaFloats = arenaFloats;
        PackedFloats = packedFloats;
        InputElements = inputElements;
        NumClasses = numClasses;
        Launches = launches;
    }

    /// <summary>The network this forward was generated for (its mmpretrain name).</summary>
    public string ModelName { get; }

    /// <summary>Floats of one image's activations, as the liveness pass placed them.</summary>
    public int ArenaFloats { get; }

    /// <summary>Floats of the packed weights (the CPU binder's layout, uploaded as is).</summary>
    public int PackedFloats { get; }

    public int InputElements { get; }

    public int NumClasses { get; }

    /// <summary>Kernel launches per forward (taps aside).</summary>
    public int Launches { get; }

    /// <summary>Launches every layer of one forward, in order; generated.</summary>
    protected abstract void Run(DeviceRun run);

    internal void Launch(DeviceRun run) => Run(run);
}
