namespace Res2Net.Gpu.Kernels;

/// <summary>A pooling layer's geometry and convention as compile-time constants (see <see cref="IConvShape"/>).</summary>
public interface IPoolShape
{
    int Channels { get; }
    int Height { get; }
    int Width { get; }
    int Kernel { get; }
    int Stride { get; }
    int Padding { get; }
    int OutHeight { get; }
    int OutWidth { get; }

    /// <summary><c>MaxPool2d</c> (else an average).</summary>
    bool Max { get; }

    /// <summary>The average's divisor counts padding (<c>count_include_pad=True</c>), else only the input inside the window.</summary>
    bool IncludePad { get; }
}
