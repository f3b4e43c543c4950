namespace Res2Net.Runtime.Datasets;

/// <summary>A dataset that cannot be used as given: a missing folder, a malformed annotation line, a label the network does not have.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string path, string message, Exception? innerException = null)
        : base($"{path}: {message}", innerException)
    {
        Path = path;
    }

    /// <summary>The file or folder at fault (with <c>:line</c> for an annotation line).</summary>
    public string Path { get; }
}
