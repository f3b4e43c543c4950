using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The single failure type of checkpoint reading, whatever went wrong (corrupt zip, hostile pickle, unsupported dtype...),
/// so callers need one catch and users always see which file failed and why.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>
    /// Creates the exception; the message becomes <c>"&lt;file&gt;: &lt;cause&gt;"</c>, with control characters escaped
    /// (<see cref="DisplayText"/>): causes quote keys and entry names from the file, which must not reach a terminal raw.
    /// </summary>
    public CheckpointException(string filePath, string cause, Exception? innerException = null)
        : base($"{DisplayText.Escape(filePath)}: {DisplayText.Escape(cause)}", innerException)
    {
        FilePath = filePath;
        Cause = DisplayText.Escape(cause);
    }

    /// <summary>The file (or display name) being read, as given.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong, without the file name (escaped like the message).</summary>
    public string Cause { get; }
}
