namespace Res2Net.Runtime.IO;

/// <summary>
/// A .npy/.npz file that cannot be read as float32; the message is <c>"&lt;file&gt;: &lt;field&gt;: &lt;cause&gt;"</c>.
/// (<see cref="InvalidDataException"/> is sealed, so this derives from <see cref="IOException"/>, its nearest open relative.)
/// </summary>
public sealed class NpyException : IOException
{
    /// <summary>
    /// Creates the exception for <paramref name="filePath"/>, blaming <paramref name="field"/>; control characters in
    /// the message (an .npz entry name, a header's text) are escaped (<see cref="DisplayText"/>).
    /// </summary>
    public NpyException(string filePath, string field, string cause, Exception? innerException = null)
        : base(DisplayText.Escape($"{filePath}: {field}: {cause}"), innerException)
    {
        FilePath = filePath;
        Field = field;
        Cause = cause;
    }

    /// <summary>The file (or display name) being read.</summary>
    public string FilePath { get; }

    /// <summary>The part of the format at fault: <c>magic</c>, <c>version</c>, <c>header</c>, <c>descr</c>, <c>shape</c>, <c>data</c>...</summary>
    public string Field { get; }

    /// <summary>What was wrong, without file and field.</summary>
    public string Cause { get; }
}
