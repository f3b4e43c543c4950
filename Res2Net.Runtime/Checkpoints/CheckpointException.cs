namespace Res2Net.Runtime.Checkpoints;

/// <summary>
/// The single failure type of checkpoint reading, whatever went wrong (corrupt zip, hostile pickle, unsupported dtype...),
/// so callers need one catch and users always see which file failed and why.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception; the message becomes <c>"&lt;file&gt;: &lt;cause&gt;"</c>.</summary>
    public CheckpointException(string filePath, string cause, Exception? innerException = null)
        : base($"{filePath}: {cause}", innerException)
    {
        FilePath = filePath;
        Cause = cause;
    }

    /// <summary>The file (or display name) being read.</summary>
    public string FilePath { get; }

    /// <summary>What was wrong, without the file name.</summary>
    public string Cause { get; }
}
