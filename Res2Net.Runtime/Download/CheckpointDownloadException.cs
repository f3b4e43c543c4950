using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Download;

/// <summary>
/// A checkpoint could not be fetched (offline, HTTP error, dropped connection after every retry, wrong sha256).
/// The message names the URL and the exact path where the file may be placed by hand; nothing is left under that path.
/// </summary>
public sealed class CheckpointDownloadException : Exception
{
    /// <summary>
    /// Creates the exception. Each part is escaped on its own (<see cref="DisplayText"/>), so the message keeps its own
    /// line breaks while control characters from a spec's URL, the cache path decoded from it, or a server's reason
    /// phrase cannot reach a terminal raw.
    /// </summary>
    public CheckpointDownloadException(string url, string targetPath, string cause, Exception? innerException = null)
        : base($"could not download {DisplayText.Escape(url)}: {DisplayText.Escape(cause)}\nDownload it by hand and save it as\n  {DisplayText.Escape(targetPath)}", innerException)
    {
        Url = url;
        TargetPath = targetPath;
        Cause = cause;
    }

    /// <summary>The URL that was requested, as given.</summary>
    public string Url { get; }

    /// <summary>Where the checkpoint belongs in the cache; a file saved there by hand is used without downloading.</summary>
    public string TargetPath { get; }

    /// <summary>What went wrong, without the URL and path, as given (not escaped).</summary>
    public string Cause { get; }
}
