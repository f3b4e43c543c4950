namespace Res2Net.Runtime.Imaging;

/// <summary>
/// Upright image rows handed out one at a time, top to bottom, for the resize's horizontal pass: from a whole decoded
/// buffer (<see cref="PixelView"/>) or straight from the decoder (<see cref="ScanlineImage"/>), so that a large JPEG
/// need not be held whole.
/// </summary>
internal unsafe interface IRowSource
{
    /// <summary>Width of the upright image.</summary>
    int Width { get; }

    /// <summary>Height of the upright image.</summary>
    int Height { get; }

    /// <summary>Bytes from a pixel to its right-hand neighbour (red, green, blue first at each).</summary>
    long StepX { get; }

    /// <summary>The first pixel of row <paramref name="y"/>; valid until the next call. Rows are asked for in increasing order.</summary>
    byte* Row(int y);
}
