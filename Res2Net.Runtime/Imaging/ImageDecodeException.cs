namespace Res2Net.Runtime.Imaging;

/// <summary>
/// An image file that cannot be turned into pixels: unreadable, truncated, corrupt, or in a format that
/// mmpretrain's loader (OpenCV <c>imread</c>) would not read either.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    public ImageDecodeException(string filePath, string reason, Exception? innerException = null)
        : base($"Cannot decode image '{filePath}': {reason}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The path (or the display name given for a stream) of the offending image.</summary>
    public string FilePath { get; }

    /// <summary>The reason alone, without the file name.</summary>
    public string Reason { get; }
}
