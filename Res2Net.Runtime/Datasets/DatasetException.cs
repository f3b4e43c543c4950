using Res2Net.Runtime.IO;

namespace Res2Net.Runtime.Datasets;

/// <summary>A dataset that cannot be used as given: a missing folder, a malformed annotation line, a label the network does not have.</summary>
public sealed class DatasetException : Exception
{
    /// <summary>
    /// Creates the exception; the message becomes <c>"&lt;path&gt;: &lt;message&gt;"</c>, with control characters escaped
    /// (<see cref="DisplayText"/>): it quotes annotation lines and file names, which must not reach a terminal raw.
    /// </summary>
    public DatasetException(string path, string message, Exception? innerException = null)
        : base($"{DisplayText.Escape(path)}: {DisplayText.Escape(message)}", innerException)
    {
        Path = path;
    }

    /// <summary>The file or folder at fault (with <c>:line</c> for an annotation line).</summary>
    public string Path { get; }
}
