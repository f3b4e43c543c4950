namespace Res2Net.Gpu.Kernels;

/// <summary>
/// A fused conv's signature as compile-time constants: the generator emits one empty struct per signature, and the
/// kernel reads <c>default(T).OutChannels</c> and the rest, which ILGPU folds to literals when it specializes the kernel
/// for that struct (one compiled kernel per signature, as the CPU side has one layer type per signature).
/// </summary>
public interface IConvShape
{
    int OutChannels { get; }
    int InChannels { get; }
    int Height { get; }
    int Width { get; }
    int Kernel { get; }
    int Stride { get; }
    int Padding { get; }
    int OutHeight { get; }
    int OutWidth { get; }

    /// <summary>The input is <c>sp + spx[i]</c>: a second operand summed as the input is read (Res2Net's hierarchical add).</summary>
    bool Summed { get; }

    /// <summary>Input channels from here on come from a second buffer (a concat's trailing piece read in place); 0 when none.</summary>
    int TailChannel { get; }

    /// <summary>
    /// The tail is read every this-many pixels along both axes (a stage block's shortcut input, folded into conv3 at the
    /// shortcut's stride); 1 for a last split read in place.
    /// </summary>
    int TailStride { get; }

    /// <summary>The tail buffer's map (the conv's own input map when <see cref="TailStride"/> is 1).</summary>
    int TailHeight { get; }

    int TailWidth { get; }

    /// <summary>The epilogue adds the Bottle2neck's identity.</summary>
    bool Residual { get; }

    /// <summary>The epilogue ends with a ReLU.</summary>
    bool Relu { get; }
}
