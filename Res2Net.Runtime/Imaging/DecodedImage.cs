namespace Res2Net.Runtime.Imaging;

/// <summary>
/// A decoded image whose pixels live outside the garbage-collected heap, held against the <see cref="DecodeBudget"/>
/// until disposed: a 16000 x 16000 photo's gigabyte is freed the moment preprocessing is done with it rather than
/// lingering until the next full collection. Either a whole buffer (<see cref="BufferedImage"/>) or rows streamed
/// from the decoder (<see cref="ScanlineImage"/>).
/// </summary>
internal abstract unsafe class DecodedImage : IRowSource, IDisposable
{
    public abstract int Width { get; }

    public abstract int Height { get; }

    public abstract long StepX { get; }

    public abstract byte* Row(int y);

    /// <summary>The upright pixels as a managed image.</summary>
    /// <exception cref="ImageDecodeException">The image is too large for one <see cref="RgbImage"/>, or its data ends early.</exception>
    public RgbImage ToRgbImage(string displayName)
    {
        if ((long)Width * Height * 3 > Array.MaxLength)
        {
            throw new ImageDecodeException(displayName,
                $"{Width}x{Height} is too large to return as one RgbImage; Preprocessor.Run(path, config) preprocesses it without one");
        }
        return PixelView.Copy(this);
    }

    public abstract void Dispose();
}
