using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Imaging;

/// <summary>
/// An image file that cannot be turned into pixels: unreadable, truncated, corrupt, or in a format that
/// mmpretrain's loader (OpenCV <c>imread</c>) would not read either.
/// </summary>
public sealed class ImageDecodeException : Exception
{
    /// <summary>
    /// Creates the exception; control characters in the message are escaped (<see cref="DisplayText"/>): the path comes
    /// from a folder listing or an annotation file, and a reason may quote it again, and neither must reach a terminal raw.
    /// </summary>
    public ImageDecodeException(string filePath, string reason, Exception? innerException = null)
        : base($"Cannot decode image '{DisplayText.Escape(filePath)}': {DisplayText.Escape(reason)}", innerException)
    {
        FilePath = filePath;
        Reason = reason;
    }

    /// <summary>The path (or the display name given for a stream) of the offending image, as given.</summary>
    public string FilePath { get; }

    /// <summary>The reason alone, without the file name, as given (not escaped).</summary>
    public string Reason { get; }
}
