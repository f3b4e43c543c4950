namespace Res2Net.Runtime.IO;

/// <summary>
/// An output file that cannot or must not be written: it is one of the inputs, a folder, a file of another kind, or the
/// disk is full. The message is <c>"&lt;file&gt;: &lt;cause&gt;"</c>; whatever was at that path before is unchanged.
/// </summary>
public sealed class OutputFileException : IOException
{
    /// <summary>
    /// Creates the exception for <paramref name="path"/>; control characters in the message are escaped
    /// (<see cref="DisplayText"/>): the path may be named after an input file, and a cause may quote a link's target.
    /// </summary>
    public OutputFileException(string path, string cause, Exception? innerException = null)
        : base($"{DisplayText.Escape(path)}: {DisplayText.Escape(cause)}", innerException)
    {
        FilePath = path;
        Cause = cause;
    }

    /// <summary>The output file (full path), as given.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong, without the file name, as given (not escaped).</summary>
    public string Cause { get; }

    /// <summary>A failed write to <paramref name="path"/>, worded for the user: a full disk says so plainly.</summary>
    internal static OutputFileException CannotWrite(string path, Exception e) => e switch
    {
        OutputFileException same => same,
        _ when IsDiskFull(e) => new OutputFileException(path, "cannot write: no space left on the device; the file was left as it was", e),
        _ => new OutputFileException(path, $"cannot write: {e.Message}", e),
    };

    /// <summary>
    /// ENOSPC and EDQUOT: .NET puts the raw errno in HResult on Unix (28 and 122 on Linux, 69 is EDQUOT on macOS);
    /// Windows reports ERROR_DISK_FULL (112) or ERROR_HANDLE_DISK_FULL (39) as HRESULTs 0x8007xxxx.
    /// </summary>
    internal static bool IsDiskFull(Exception e) => e is IOException && (OperatingSystem.IsWindows()
        ? e.HResult is unchecked((int)0x80070070) or unchecked((int)0x80070027)
        : e.HResult is 28 || (OperatingSystem.IsLinux() ? e.HResult == 122 : e.HResult == 69));
}
